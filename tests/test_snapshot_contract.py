"""The snapshot contract: one typed meta record and one table list shared by the publisher and
the reader, checked on a REAL night published by the Dagster assets and read back through the
dashboard's read functions and its Pipeline page."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from warehouse.storage.learned import LEARNED_COLUMNS, learned_rows
import pytest
import streamlit as st
from dagster import DagsterInstance
from streamlit.testing.v1 import AppTest

from pipelines.nightly import run_night
from pipelines.resources.build import build_resources
from pipelines.window import WindowConfig, choose_window
from tests.snapshot_factory import build_snapshot, factory_meta
from warehouse.demo.orders import generate_orders, write_orders
from warehouse.demo.users import generate_users
from warehouse.demo.simulator import simulate_question_log, write_question_log
from warehouse.language.embedding import MODEL_NAME
from warehouse.storage import serving
from warehouse.storage.contract import (CONTRACT_VERSION, TABLES, SnapshotContractError, SnapshotMeta,
                                        next_window, table_problems)
from warehouse.storage.paths import offpeak_paths
from warehouse.storage.schema import migrate
from warehouse.semantic.facts import build_sales_facts
from warehouse.storage.snapshot import SOURCES, current_snapshot, open_snapshot
from warehouse.storage.users import users_to_csv

NIGHT = date(2026, 11, 20)
TIMEZONE = "America/New_York"   # not UTC, so a lost timezone shows
APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"


# --- the meta record ------------------------------------------------------------------------------

@pytest.fixture
def meta() -> SnapshotMeta:
    return factory_meta(NIGHT)


def rows_with(meta: SnapshotMeta, key: str, text: str | None) -> list[tuple[str, str]]:
    """``meta``'s rows with ``key``'s JSON text replaced (or the key dropped when ``text`` is None)."""
    return [(k, text if k == key else v) for k, v in meta.to_rows() if k != key or text is not None]


def test_meta_round_trips_through_its_rows(meta):
    rows = meta.to_rows()
    assert rows[0] == ("contract_version", str(CONTRACT_VERSION))
    back = SnapshotMeta.from_rows(rows)
    assert back == meta
    assert back.next_window_start.tzinfo == ZoneInfo("UTC") and back.published_at.utcoffset() is not None
    assert replace(meta, data_through=None) == SnapshotMeta.from_rows(replace(meta, data_through=None).to_rows())


@pytest.mark.parametrize(("key", "text", "says"), [
    ("next_window_start", '"02:00"', "'next_window_start': '02:00' is not an ISO datetime"),
    ("next_window_start", '"2026-11-22T02:00:00"', "'next_window_start': 2026-11-22T02:00:00 has no timezone"),
    ("as_of", "null", "'as_of' is null; it must be a date"),
    ("night", '"yesterday"', "'night': 'yesterday' is not an ISO date"),
    ("run_id", "42", "'run_id': 42 is not a non-empty str"),
    ("next_window_timezone", '"Mars/Olympus"', "'next_window_timezone': 'Mars/Olympus' is not a known timezone"),
    ("dagster_url", None, "missing ['dagster_url']"),
    ("contract_version", None, "'contract_version' is None"),
    ("published_at", "not json", "'published_at': 'not json' is not JSON"),
])
def test_a_value_that_does_not_decode_names_its_key(meta, key, text, says):
    with pytest.raises(SnapshotContractError, match="snapshot meta") as err:
        SnapshotMeta.from_rows(rows_with(meta, key, text))
    assert says in str(err.value)


def test_unknown_keys_and_a_window_that_ends_before_it_starts_are_refused(meta):
    with pytest.raises(SnapshotContractError, match=r"unknown \['next_window_hour'\]"):
        SnapshotMeta.from_rows([*meta.to_rows(), ("next_window_hour", '"02:00"')])
    with pytest.raises(SnapshotContractError, match="'next_window_end'"):
        replace(meta, next_window_end=meta.next_window_start)
    with pytest.raises(SnapshotContractError, match="'published_at'"):
        replace(meta, published_at=datetime(2026, 11, 21, 2, 0))


@pytest.mark.parametrize(("after", "hours", "start", "end"), [
    (datetime(2026, 11, 21, 3, 0, tzinfo=timezone.utc), (2, 4),
     datetime(2026, 11, 22, 2, 0), datetime(2026, 11, 22, 4, 0)),
    (datetime(2026, 11, 21, 1, 59, tzinfo=timezone.utc), (2, 4),
     datetime(2026, 11, 21, 2, 0), datetime(2026, 11, 21, 4, 0)),
    (datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc), (23, 1),
     datetime(2026, 11, 21, 23, 0), datetime(2026, 11, 22, 1, 0)),
])
def test_next_window_is_the_first_occurrence_after_publication(after, hours, start, end):
    got = next_window(start_hour=hours[0], end_hour=hours[1], timezone="UTC", after=after)
    assert got == (start.replace(tzinfo=ZoneInfo("UTC")), end.replace(tzinfo=ZoneInfo("UTC")))


def test_next_window_is_wall_clock_in_the_windows_timezone():
    # 06:30 UTC on 21 Nov is 01:30 in New York (EST, UTC-5): tonight's 02:00 is still ahead.
    start, end = next_window(start_hour=2, end_hour=4, timezone=TIMEZONE,
                             after=datetime(2026, 11, 21, 6, 30, tzinfo=timezone.utc))
    assert (start.isoformat(), end.isoformat()) == ("2026-11-21T02:00:00-05:00", "2026-11-21T04:00:00-05:00")
    # Across the spring-forward night the window keeps its wall-clock hours.
    start, _ = next_window(start_hour=4, end_hour=6, timezone=TIMEZONE,
                           after=datetime(2027, 3, 14, 5, 0, tzinfo=timezone.utc))
    assert start.isoformat() == "2027-03-14T04:00:00-04:00"


# --- the tables ----------------------------------------------------------------------------------

def test_contract_tables_are_exactly_the_published_sources():
    assert set(SOURCES) == set(TABLES)


def test_contract_columns_match_the_migrated_warehouse():
    """Tables copied as they are (``SELECT * FROM <table>``) have the warehouse's columns and
    types: a migration that changes one of them has to change the contract too."""
    con = duckdb.connect()
    migrate(con)
    build_sales_facts(con)
    copied = {name: m.group(1) for name, select in SOURCES.items()
              if (m := re.match(r"SELECT \* FROM (\w+)", select))}
    assert len(copied) == 16 and copied["quarantine_sample"] == "quarantine" and "sales_facts" in copied
    for name, source in copied.items():
        found = con.execute("SELECT column_name, data_type FROM information_schema.columns "
                            "WHERE table_name = ? ORDER BY ordinal_position", [source]).fetchall()
        assert found == [(c.name, c.type) for c in TABLES[name].columns], name
    learned = learned_rows(con, date(2026, 1, 1))
    assert list(learned.columns) == list(LEARNED_COLUMNS) == list(TABLES["learned_phrasings"].column_names)


def test_factory_snapshot_follows_the_contract_and_a_broken_one_is_named(tmp_path):
    factory = build_snapshot(tmp_path)
    with open_snapshot(factory.snapshot) as con:
        assert table_problems(con) == []
    broken = duckdb.connect(str(factory.snapshot))
    broken.execute("ALTER TABLE answers DROP COLUMN headline")
    broken.execute("DROP TABLE users")
    broken.execute("UPDATE meta SET value = '\"02:00\"' WHERE key = 'next_window_start'")
    broken.close()
    with open_snapshot(factory.snapshot) as con:
        problems = table_problems(con)
        assert problems[0] == "table users is missing" and "table answers has columns" in problems[1]
        with pytest.raises(SnapshotContractError, match="'next_window_start': '02:00'"):
            serving.snapshot_info(con)


def test_pipeline_page_shows_a_clear_line_for_an_unreadable_snapshot(tmp_path, monkeypatch):
    factory = build_snapshot(tmp_path)
    broken = duckdb.connect(str(factory.snapshot))
    broken.execute("UPDATE meta SET value = '\"02:00\"' WHERE key = 'next_window_start'")
    broken.close()
    at = open_app(monkeypatch, factory.home, "dan", page="app_pages/pipeline.py")
    assert "cannot be read" in at.error[0].value and "next\\_window\\_start" in at.error[0].value


# --- a real night ---------------------------------------------------------------------------------

def open_app(monkeypatch, home: Path, user_id: str, page: str) -> AppTest:
    """The dashboard over ``home``, signed in through the identity provider, on ``page``."""
    for name in ("OFFPEAK_DEMO_MODE", "OFFPEAK_TRUSTED_HEADER", "OFFPEAK_LIVE_LLM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OFFPEAK_HOME", str(home))
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.user = {"is_logged_in": True, "sub": user_id}
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def real_night(tmp_path_factory):
    """One night materialized by the Dagster assets on a small demo home, in New York time."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OFFPEAK_TIMEZONE", TIMEZONE)
        mp.delenv("OFFPEAK_DAGSTER_URL", raising=False)
        paths = offpeak_paths(tmp_path_factory.mktemp("contract")).ensure()
        write_orders(paths, n_lines=5_000, end_date=NIGHT + timedelta(days=1), years=2)
        users = generate_users(8)
        paths.users_csv.write_text(users_to_csv(users), encoding="utf-8")
        orders = generate_orders(5_000, end_date=NIGHT + timedelta(days=1), years=2)
        log = simulate_question_log(users, orders, NIGHT - timedelta(days=30), NIGHT + timedelta(days=1))
        write_question_log(log, paths.question_log_dir / "history.csv")
        with DagsterInstance.ephemeral() as instance:
            before = datetime.now(timezone.utc)
            assert run_night(NIGHT, paths, build_resources(str(paths.home)), instance=instance,
                             say=lambda s: None)
            after = datetime.now(timezone.utc)
            runs = {r.run_id for r in instance.get_runs()}
        yield {"paths": paths, "users": users, "before": before, "after": after, "runs": runs,
               "window": choose_window(WindowConfig.from_env())}


@pytest.mark.slow
def test_a_real_night_publishes_every_meta_field_typed(real_night):
    paths, window = real_night["paths"], real_night["window"]
    with duckdb.connect(str(paths.warehouse_db), read_only=True) as con:
        last_order = con.execute("SELECT max(order_date) FROM sales_facts WHERE order_date < ?",
                                 [NIGHT + timedelta(days=1)]).fetchall()[0][0]
    with open_snapshot(current_snapshot(paths.snapshots_dir)) as con:
        assert table_problems(con) == []
        info = serving.snapshot_info(con)
        assert serving.freshness(info, info.as_of).days_behind == 0
    assert isinstance(info, SnapshotMeta)
    assert (info.night, info.as_of) == (NIGHT, NIGHT + timedelta(days=1))
    assert type(info.data_through) is date and info.data_through == last_order
    assert real_night["before"] <= info.published_at <= real_night["after"]
    assert info.run_id in real_night["runs"]
    assert info.embedding_model == MODEL_NAME
    assert info.next_window_timezone == TIMEZONE == window.timezone
    zone = ZoneInfo(TIMEZONE)
    start, end = info.next_window_start, info.next_window_end
    assert start.tzinfo == zone and end.tzinfo == zone
    assert (start.hour, start.minute, end.hour) == (window.start_hour, 0, window.end_hour)
    assert info.published_at < start <= info.published_at + timedelta(days=1)
    assert info.next_window_reason == window.reason and TIMEZONE in info.next_window_reason
    assert info.dagster_url == "http://127.0.0.1:3000"


@pytest.mark.slow
def test_the_pipeline_page_shows_the_real_next_window(real_night, monkeypatch):
    engineer = next(u for u in real_night["users"] if u.role == "data_engineer")
    at = open_app(monkeypatch, real_night["paths"].home, engineer.user_id, "app_pages/pipeline.py")
    with open_snapshot(current_snapshot(real_night["paths"].snapshots_dir)) as con:
        info = serving.snapshot_info(con)
    start, end = info.next_window_start, info.next_window_end
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Next window"] == f"{start:%a %H:%M} {start:%Z}"
    assert start.strftime("%Z") in ("EST", "EDT")
    shown = "\n".join(str(m.value) for m in at.markdown)
    assert (f"**Next scheduled window:** {start:%a %d %b %H:%M}–{end:%H:%M} America/New\\_York."
            in shown)
