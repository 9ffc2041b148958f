"""A whole night through Dagster on a temp warehouse; automation evaluated with Dagster's contexts."""

import json
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dagster import DagsterInstance, build_schedule_context, build_sensor_context

from pipelines.nightly import run_night
from pipelines.resources.build import build_resources
from pipelines.resources.llm import AnswerWriterResource
from warehouse.storage.paths import REPO_ROOT, offpeak_paths
from warehouse.demo.orders import generate_orders, write_orders
from warehouse.demo.users import generate_users
from warehouse.demo.simulator import simulate_question_log, write_question_log
from warehouse.storage.snapshot import current_snapshot, open_snapshot, snapshot_meta
from warehouse.storage.users import users_to_csv

NIGHT = date(2026, 11, 20)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    paths = offpeak_paths(tmp_path_factory.mktemp("home")).ensure()
    write_orders(paths, n_lines=20_000, end_date=NIGHT + timedelta(days=1), years=2)
    users = generate_users(8)
    paths.users_csv.write_text(users_to_csv(users), encoding="utf-8")
    orders = generate_orders(20_000, end_date=NIGHT + timedelta(days=1), years=2)
    log = simulate_question_log(users, orders, NIGHT - timedelta(days=40), NIGHT + timedelta(days=1))
    write_question_log(log, paths.question_log_dir / "history.csv")
    return paths


@pytest.fixture(scope="module")
def instance():
    with DagsterInstance.ephemeral() as inst:
        yield inst


def counts(paths, night):
    con = duckdb.connect(str(paths.warehouse_db), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t} WHERE night = ?", [night]).fetchall()[0][0]
                for t in ("forecast", "question_instances", "facts", "answers", "briefings")}
    finally:
        con.close()


@pytest.mark.slow
def test_a_whole_night_publishes_a_complete_snapshot(home, instance):
    assert run_night(NIGHT - timedelta(days=1), home, build_resources(str(home.home)), instance=instance)
    assert run_night(NIGHT, home, build_resources(str(home.home)), instance=instance)
    found = counts(home, NIGHT)
    assert found["answers"] == found["question_instances"] == found["facts"] > 0
    assert found["forecast"] >= found["answers"]   # shared questions are computed once
    assert 0 < found["briefings"] <= found["forecast"]
    snap = open_snapshot(current_snapshot(home.snapshots_dir))
    try:
        meta = snapshot_meta(snap)
        assert meta["night"] == NIGHT.isoformat() and meta["as_of"] == (NIGHT + timedelta(days=1)).isoformat()
        users_with_cards = snap.execute("SELECT count(DISTINCT user_id) FROM briefings").fetchall()[0][0]
        assert users_with_cards == snap.execute("SELECT count(*) FROM users").fetchall()[0][0] == 8
        saved = snap.execute("SELECT questions, hits, answers_computed FROM savings").fetchall()
        assert saved and saved[-1][2] > 0
    finally:
        snap.close()
    con = duckdb.connect(str(home.warehouse_db), read_only=True)
    runs = con.execute("SELECT count(DISTINCT asset), min(joules) FROM asset_runs WHERE night = ?", [NIGHT]).fetchall()
    unmeasured = con.execute("""SELECT r.asset, r.joules FROM asset_runs r
                                LEFT JOIN energy_log e ON e.night = r.night AND e.run_id = r.run_id
                                     AND e.asset = r.asset AND e.tier IS NULL
                                WHERE r.night = ? AND NOT (r.joules > 0
                                      OR coalesce(e.detail, '') LIKE '%too short to measure%')""", [NIGHT]).fetchall()
    con.close()
    # every reading is > 0 J, or says it was too short to measure (never a false zero)
    assert runs[0][0] == 12 and runs[0][1] >= 0 and unmeasured == []


@pytest.mark.slow
def test_rerunning_a_night_is_idempotent(home, instance):
    before = counts(home, NIGHT)
    assert run_night(NIGHT, home, build_resources(str(home.home)), instance=instance)
    assert counts(home, NIGHT) == before


class _Crash(AnswerWriterResource):
    def write_answers(self, requests):
        raise RuntimeError("the GPU fell over halfway through the batch")


@pytest.mark.slow
def test_a_crash_halfway_leaves_the_published_snapshot_alone(home, instance):
    published = current_snapshot(home.snapshots_dir)
    before = counts(home, NIGHT)
    resources = build_resources(str(home.home), answer_writer=_Crash())
    assert not run_night(NIGHT, home, resources, instance=instance, say=lambda s: None)
    assert current_snapshot(home.snapshots_dir) == published
    assert counts(home, NIGHT)["answers"] == before["answers"]


def test_schedule_runs_the_night_that_just_ended():
    from pipelines.schedules import WINDOW, nightly_schedule
    when = datetime(2026, 11, 22, WINDOW.start_hour, 0, tzinfo=timezone.utc)
    request = nightly_schedule(build_schedule_context(scheduled_execution_time=when))
    assert request.partition_key == "2026-11-21"
    assert nightly_schedule.cron_schedule == WINDOW.cron


def test_sensor_requests_an_ingest_once_per_new_set_of_files(tmp_path):
    from pipelines.resources.warehouse import WarehouseResource
    from pipelines.sensors import drop_folder_sensor
    paths = offpeak_paths(tmp_path).ensure()
    resources = {"warehouse": WarehouseResource(home=str(tmp_path))}
    first = drop_folder_sensor(build_sensor_context(resources=resources))
    assert not isinstance(first, list) and "no sales files" in str(first.skip_message)
    (paths.drop_dir / "orders.csv").write_text("order_id\n", encoding="utf-8")
    request = drop_folder_sensor(build_sensor_context(resources=resources))
    assert request.run_key.startswith("drop-")
    again = drop_folder_sensor(build_sensor_context(resources=resources, cursor=request.run_key[5:]))
    assert "no new files" in again.skip_message


def test_definitions_load_from_workspace_yaml():
    dagster = Path(sys.executable).parent / "dagster"
    result = subprocess.run([str(dagster), "definitions", "validate", "-w", str(REPO_ROOT / "workspace.yaml")],
                            capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_ask_answers_an_unpredicted_question_by_sql_on_the_snapshot(home, instance, monkeypatch):
    """After the night above: a question understood but not pre-computed is answered at once,
    from the snapshot's own order lines, with the numbers pandas computes from them."""
    from dashboard import data
    from warehouse.language.live_sql import answer_now
    from warehouse.language.understanding import EntityIndex, understand
    from warehouse.semantic.catalogue import instance_key
    from warehouse.storage.events import spool_files

    path = current_snapshot(home.snapshots_dir)
    morning = NIGHT + timedelta(days=1)
    snap = open_snapshot(path)
    try:
        question = "top 7 products by units sold last quarter"
        u = understand(question, EntityIndex.from_connection(snap), morning, {})
        assert u.mapped
        published = {k for (k,) in snap.execute("SELECT instance_key FROM answers").fetchall()}
        assert instance_key(u.intent_id, u.params) not in published      # nobody predicted it
        live = answer_now(snap, u, night=NIGHT, asked_on=morning)
        lines = snap.execute("SELECT product_name, quantity, order_date FROM sales_facts").df()
    finally:
        snap.close()
    quarter = lines[(lines.order_date >= "2026-07-01") & (lines.order_date < "2026-10-01")]
    totals = quarter.groupby("product_name", as_index=False).quantity.sum()
    expected = totals.sort_values(["quantity", "product_name"], ascending=[False, True]).head(7)
    shown = {r["label"]: r["value"] for r in json.loads(live.row["chart_data"])}
    assert list(shown) == expected.product_name.tolist()
    assert list(shown.values()) == pytest.approx(expected.quantity.tolist())
    assert lines.order_date.max() < pd.Timestamp(morning) and live.cpu_seconds >= 0

    monkeypatch.setenv("OFFPEAK_HOME", str(home.home))
    user = next(u for u in data.users(str(path)) if u.scope.is_everything)
    outcome = data.ask(str(path), user, question)
    assert not outcome.hit and outcome.live_card is not None and outcome.queued_reason is None
    assert outcome.live_card.headline == live.row["headline"]
    events = [json.loads(line) for f in spool_files(home.spool_dir) for line in f.read_text().splitlines()]
    assert any(e["kind"] == "live_sql" and e["question"] == question for e in events)
