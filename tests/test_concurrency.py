"""The dashboard's reads and event writes run in a loop while a whole night materializes and
publishes in another process: zero errors, zero lost or duplicated events."""

import subprocess
import sys
import time
from datetime import date, timedelta

import duckdb
import pytest

from warehouse.storage.paths import REPO_ROOT, offpeak_paths
from warehouse.demo.orders import generate_orders, write_orders
from warehouse.demo.users import generate_users
from warehouse.storage.events import Event, append_events, ingest_spool
from warehouse.storage.serving import briefing_for, savings_by_night
from warehouse.demo.simulator import simulate_question_log, write_question_log
from warehouse.storage.snapshot import current_snapshot, open_snapshot
from warehouse.storage.users import users_to_csv

NIGHT = date(2026, 11, 20)


def night_process(home, night):
    return subprocess.Popen([sys.executable, "-m", "pipelines.cli", "--home", str(home), "night",
                             "--night", night.isoformat()], cwd=REPO_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.slow
def test_reads_and_events_during_a_nightly_write(tmp_path):
    paths = offpeak_paths(tmp_path).ensure()
    write_orders(paths, n_lines=20_000, end_date=NIGHT + timedelta(days=1), years=2)
    users = generate_users(6)
    paths.users_csv.write_text(users_to_csv(users), encoding="utf-8")
    orders = generate_orders(20_000, end_date=NIGHT + timedelta(days=1), years=2)
    write_question_log(simulate_question_log(users, orders, NIGHT - timedelta(days=30), NIGHT),
                       paths.question_log_dir / "history.csv")
    first = night_process(tmp_path, NIGHT - timedelta(days=1))
    assert first.wait(timeout=600) == 0, first.stdout.read()

    writer = night_process(tmp_path, NIGHT)
    errors, reads, written = [], 0, []
    while writer.poll() is None or reads < 20:
        try:
            con = open_snapshot(current_snapshot(paths.snapshots_dir))
            try:
                for user in users:
                    briefing_for(con, user.user_id)
                savings_by_night(con)
            finally:
                con.close()
            reads += 1
            batch = [Event(users[reads % len(users)].user_id, "miss", question=f"question {reads}")]
            append_events(paths.spool_dir, batch)
            written.extend(e.event_id for e in batch)
        except Exception as exc:  # every failure counts: the test wants none
            errors.append(repr(exc))
        time.sleep(0.05)
    output = writer.stdout.read()
    assert writer.returncode == 0, output
    assert errors == [] and reads >= 20

    con = duckdb.connect(str(paths.warehouse_db))
    try:
        loaded_by_night = con.execute("SELECT count(*) FROM question_log WHERE source = 'dashboard'").fetchall()[0][0]
        report = ingest_spool(con, paths.spool_dir)          # the next night's ingest
        again = ingest_spool(con, paths.spool_dir)
        ids = {r[0] for r in con.execute(
            "SELECT event_id FROM question_log WHERE source = 'dashboard'").fetchall()}
        dupes = con.execute("SELECT count(*) - count(DISTINCT event_id) FROM question_log").fetchall()[0][0]
    finally:
        con.close()
    assert ids == set(written)
    assert loaded_by_night + report.events_new == len(written)
    assert again.events_new == 0 and dupes == 0
