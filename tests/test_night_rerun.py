"""Re-running an old night after a newer one reproduces its published rows and leaves the newer
night alone (issue 9, "honest partitions").

A small demo home receives its data the way a real one does: night N-1 sees the orders and the
questions up to day N-1; before night N, day N's orders and questions land. Then night N-1 is
materialized again (a backfill). Everything a user sees in N-1's snapshot must come back byte for
byte; only measurements (an answer's joules and their method; the meta's run id and
publication time) may differ. Found while writing this (see the last two tests): the
re-publication shows savings measured on day N, and it moves CURRENT back to night N-1.

The LLM tier runs on the scripted engine (``ScriptedEngineResource``: replies given as data, no
model), so the answers carry real energy readings of real batched calls through the cascade.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from dagster import DagsterInstance

from pipelines.resources.llm import (
    AnswerWriterResource,
    ScriptedEngineResource,
    ScriptedReplies,
)
from tests.nights import night_runner
from warehouse.demo.orders import (
    DEMO_ORDERS_GLOB,
    DEMO_RETURNS_FILE,
    generate_orders,
    write_orders,
)
from warehouse.demo.simulator import simulate_question_log, write_question_log
from warehouse.demo.users import generate_users
from warehouse.storage.contract import TABLES
from warehouse.storage.paths import OffpeakPaths, offpeak_paths
from warehouse.storage.snapshot import open_snapshot, snapshot_meta
from warehouse.storage.users import users_to_csv

NIGHT = date(2026, 11, 20)          # night N; night N-1 is the one re-run
EARLIER = NIGHT - timedelta(days=1)
N_LINES, N_USERS = 6_000, 5

# Columns that are measurements by nature: a second run measures its own energy. Everything else
# in a published row (texts, figures, chart data, tiers, models, token counts, grounding) is what
# the dashboard shows or what produced it, and must not move.
MEASURED = {"answers": {"joules", "energy_method"}}
# Tables keyed by night whose N-1 rows the dashboard shows: (table, sort key).
NIGHT_TABLES = {"answers": "answer_id", "answer_phrasings": "answer_id, text",
                "briefings": "user_id, rank", "data_signals": "scope_key, metric, period, detail",
                "unmapped_questions": "user_id, asked_at, question"}
NEWER_TABLES = ("answers", "briefings", "answer_phrasings")   # night N's rows the re-run must not touch
META_STABLE = ("night", "as_of", "data_through", "embedding_model")


@dataclass(frozen=True)
class Published:
    """What the test keeps of the three runs."""

    paths: OffpeakPaths
    first: Path          # N-1's snapshot as first published
    newer: Path          # N's snapshot
    rerun: Path          # N-1's snapshot as re-published after N
    current: Path | None  # CURRENT after the re-run
    night_rows_before: dict[str, list[tuple]]   # night N's working rows before the re-run


def _split_demo_data(home: OffpeakPaths, scratch: Path) -> list[Path]:
    """Demo orders up to day N-1 into the drop folder now; return day N's file to drop later."""
    spare = offpeak_paths(scratch).ensure()
    write_orders(spare, n_lines=N_LINES, end_date=NIGHT + timedelta(days=1), years=2)
    table = pq.read_table(sorted(spare.drop_dir.glob(DEMO_ORDERS_GLOB)))
    day_n = pc.greater_equal(table["order_date"], pa.scalar(NIGHT, pa.date32()))   # an order's lines share its date
    pq.write_table(table.filter(pc.invert(day_n)), home.drop_dir / "orders-until-n-1.parquet")
    (home.drop_dir / DEMO_RETURNS_FILE).write_bytes((spare.drop_dir / DEMO_RETURNS_FILE).read_bytes())
    later = scratch / "orders-day-n.parquet"
    pq.write_table(table.filter(day_n), later)
    return [later]


def _split_question_log(home: OffpeakPaths, users) -> pd.DataFrame:
    """Questions up to day N-1 into the log folder now; return day N's to add later."""
    orders = generate_orders(N_LINES, end_date=NIGHT + timedelta(days=1), years=2)
    log = simulate_question_log(users, orders, NIGHT - timedelta(days=30), NIGHT)
    day_n = log["asked_at"] >= pd.Timestamp(NIGHT)
    write_question_log(log[~day_n], home.question_log_dir / "until-n-1.csv")
    return log[day_n]


def _writer() -> AnswerWriterResource:
    return AnswerWriterResource(llm=ScriptedEngineResource(tier1=ScriptedReplies(model="scripted-small")))


def _rows(con: duckdb.DuckDBPyConnection, table: str, night: date | None = None) -> list[tuple]:
    """A table's rows (the night's, when given) in a fixed order, measured columns left out."""
    cols = [c for c in TABLES[table].column_names if c not in MEASURED.get(table, set())]
    where = "WHERE night = ?" if night else ""
    return con.execute(f"SELECT {', '.join(cols)} FROM {table} {where} ORDER BY {NIGHT_TABLES[table]}",
                       [night] if night else []).fetchall()


def _in_snapshot(path: Path, read) -> object:
    con = open_snapshot(path)
    try:
        return read(con)
    finally:
        con.close()


def _working(paths: OffpeakPaths, read) -> object:
    con = duckdb.connect(str(paths.warehouse_db), read_only=True)
    try:
        return read(con)
    finally:
        con.close()


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Published:
    """Night N-1, then day N's data and night N, then night N-1 again; all through Dagster."""
    paths = offpeak_paths(tmp_path_factory.mktemp("rerun-home")).ensure()
    users = generate_users(N_USERS)
    paths.users_csv.write_text(users_to_csv(users), encoding="utf-8")
    later_orders = _split_demo_data(paths, tmp_path_factory.mktemp("rerun-scratch"))
    later_questions = _split_question_log(paths, users)
    with DagsterInstance.ephemeral() as instance:
        night = night_runner(paths, _writer(), instance)

        first = night(EARLIER)
        for f in later_orders:
            (paths.drop_dir / f.name).write_bytes(f.read_bytes())
        write_question_log(later_questions, paths.question_log_dir / "day-n.csv")
        newer = night(NIGHT)
        before = _working(paths, lambda con: {t: _rows(con, t, NIGHT) for t in NEWER_TABLES})
        current = night(EARLIER)
    # the re-run's file, found by name: whether CURRENT points at it is what the last test checks
    files = sorted(paths.snapshots_dir.glob(f"night-{EARLIER.isoformat()}-*.duckdb"))
    assert first in files and len(files) == 2, f"expected N-1 published twice, found {files}"
    rerun = next(f for f in files if f != first)
    return Published(paths, first, newer, rerun, current, before)


@pytest.mark.slow
def test_the_runs_were_real_and_the_llm_tier_measured(published):
    """Guards the comparisons below: both runs of N-1 published answers, some written by the LLM
    tier, with energy measured, and day N's data really arrived after N-1's first run."""
    assert published.first.name < published.rerun.name     # same night, later stamp
    for path in (published.first, published.rerun):
        tiers = dict(_in_snapshot(path, lambda con: con.execute(
            "SELECT tier, sum(joules) FROM answers GROUP BY tier").fetchall()))
        assert set(tiers) == {0, 1} and tiers[1] > 0, f"tier 1 (scripted) answered and measured: {tiers}"
    through = [_in_snapshot(p, lambda con: snapshot_meta(con)["data_through"])
               for p in (published.first, published.newer)]
    assert through == [EARLIER.isoformat(), NIGHT.isoformat()]


@pytest.mark.slow
@pytest.mark.parametrize("table", list(NIGHT_TABLES))
def test_rerunning_an_old_night_reproduces_its_published_rows(published, table):
    first = _in_snapshot(published.first, lambda con: _rows(con, table))
    again = _in_snapshot(published.rerun, lambda con: _rows(con, table))
    assert table not in ("answers", "briefings", "answer_phrasings") or first, f"no {table} rows published"
    assert again == first, f"{table}: {_first_difference(first, again)}"


def _first_difference(first: list[tuple], again: list[tuple]) -> str:
    if len(first) != len(again):
        return f"{len(first)} rows first, {len(again)} after the re-run"
    for a, b in zip(first, again):
        if a != b:
            return f"first {a!r}\n re-run {b!r}"
    return "identical"


@pytest.mark.slow
def test_the_republished_meta_describes_the_same_night(published):
    first, again = (_in_snapshot(p, snapshot_meta) for p in (published.first, published.rerun))
    assert {k: again[k] for k in META_STABLE} == {k: first[k] for k in META_STABLE}
    assert again["run_id"] != first["run_id"]
    assert datetime.fromisoformat(again["published_at"]) > datetime.fromisoformat(first["published_at"])


@pytest.mark.slow
def test_rerunning_an_old_night_leaves_the_newer_night_alone(published):
    after = _working(published.paths, lambda con: {t: _rows(con, t, NIGHT) for t in NEWER_TABLES})
    assert after == published.night_rows_before and after["answers"]


@pytest.mark.slow
def test_savings_shown_with_an_old_night_are_those_known_that_night(published):
    """N-1's snapshot was published before day N happened: its re-publication must not show
    savings measured on day N (the row ``savings[N]`` wrote for night N-1)."""
    def read(con):
        return con.execute("SELECT * EXCLUDE (batch_joules, live_joules_per_answer, live_joules_avoided, "
                           "net_joules, net_cost, net_co2_g) FROM savings ORDER BY night").fetchall()
    assert _in_snapshot(published.rerun, read) == _in_snapshot(published.first, read)


@pytest.mark.slow
def test_backfilling_an_old_night_keeps_the_dashboard_on_the_newest_night(published):
    """CURRENT is what every dashboard opens: a backfill of N-1 must not send it back to N-1's
    briefings while N's are published."""
    assert published.current == published.newer, (
        f"CURRENT moved from {published.newer.name} to {published.current.name if published.current else None}")
