"""The snapshot read functions behind the dashboard, on a factory snapshot published for real."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest

from tests.snapshot_factory import (DAGSTER_URL, LIVE_JOULES_PER_ANSWER, NIGHTS_OF_HISTORY,
                                    build_snapshot)
from warehouse.storage import serving
from warehouse.storage.contract import SnapshotMeta
from warehouse.storage.snapshot import open_snapshot
from warehouse.storage.users import Scope


@pytest.fixture(scope="module")
def factory(tmp_path_factory):
    return build_snapshot(tmp_path_factory.mktemp("serving"),
                          extra_briefings=[("wes", 4, "east_margin"), ("wes", 5, "company_revenue")])


@pytest.fixture
def con(factory):
    with open_snapshot(factory.snapshot) as connection:
        yield connection


def test_snapshot_is_read_only(con):
    with pytest.raises(duckdb.Error):
        con.execute("DELETE FROM answers")


def test_snapshot_info_reads_meta(con, factory):
    info = serving.snapshot_info(con)
    assert info.night == factory.night
    assert info.as_of == factory.night + timedelta(days=1)
    assert info.data_through == factory.night
    assert info.dagster_url == DAGSTER_URL
    assert info.next_window_start.hour == 1 and info.next_window_end.hour == 4
    assert "cheapest" in info.next_window_reason
    assert info.published_at is not None
    assert isinstance(info, SnapshotMeta) and info.next_window_timezone == "UTC"
    assert info.next_window_start.utcoffset() == timedelta(0) and info.published_at.utcoffset() is not None
    assert info.published_at < info.next_window_start <= info.published_at + timedelta(days=1)


def test_freshness_counts_days_behind_and_data_lag(con, factory):
    info = serving.snapshot_info(con)
    today = serving.freshness(info, info.as_of)
    assert (today.days_behind, today.data_lag_days, today.stale) == (0, 1, False)
    later = serving.freshness(info, info.as_of + timedelta(days=2))
    assert later.stale and later.days_behind == 2


def test_briefing_is_ordered_by_rank_with_reasons(con, factory):
    cards = serving.briefing_for(con, "wes")
    assert [c.answer_id for c in cards] == [factory.answer_ids[n] for n in
                                            ("west_by_category", "west_top_products", "west_consumer_orders")]
    assert [c.rank for c in cards] == [1, 2, 3]
    first = cards[0]
    assert first.headline == "West revenue by category"
    assert (first.key_value, first.previous_value, first.delta, first.unit) == (402_300.0, 389_900.0, 12_400.0, "$")
    assert first.delta_pct == pytest.approx(3.2)
    assert first.reasons == ("You asked this 4 times in the last 30 days",)
    assert first.chart_kind == "bar" and first.chart_data[0] == {
        "label": "Technology", "value": 182_400.0, "previous": 160_100.0}


def test_briefing_never_leaks_answers_outside_the_users_scope(con, factory):
    """Rows planted in Wes's briefing for East and company-wide answers are not served."""
    ids = {c.answer_id for c in serving.briefing_for(con, "wes")}
    assert factory.answer_ids["east_margin"] not in ids
    assert factory.answer_ids["company_revenue"] not in ids
    assert len(ids) == 3


def test_briefing_of_unknown_user_is_empty(con):
    assert serving.briefing_for(con, "mallory") == []
    assert serving.briefing_for(con, "") == []


def test_find_user(con):
    user = serving.find_user(con, "wes")
    assert user.name == "Wes Turner" and user.scope == Scope.parse("region=West")
    assert serving.find_user(con, "WES") is None and serving.find_user(con, "nobody") is None
    assert [u.user_id for u in serving.list_users(con)] == ["ada", "dan", "erin", "vera", "wes"]


@pytest.mark.parametrize(("scope", "readable"), [
    ("*", {"company_revenue", "west_by_category", "west_top_products", "west_consumer_orders", "east_margin"}),
    ("region=West", {"west_by_category", "west_top_products", "west_consumer_orders"}),
    ("region=West;segment=Consumer", {"west_consumer_orders"}),
    ("region=East", {"east_margin"}),
    ("region=Central", set()),
])
def test_answers_in_scope(con, factory, scope, readable):
    expected = {factory.answer_ids[n] for n in readable}
    assert set(serving.answers_in_scope(con, Scope.parse(scope))["answer_id"]) == expected
    for name, answer_id in factory.answer_ids.items():
        card = serving.answer_in_scope(con, answer_id, Scope.parse(scope))
        assert (card is not None) == (name in readable)


def test_savings_series_and_totals(con):
    nights = serving.savings_by_night(con)
    assert len(nights) == NIGHTS_OF_HISTORY and nights["night"].is_monotonic_increasing
    last = nights.iloc[-1]
    assert (last["questions"], last["hits"], last["answers_read"]) == (40, 31, 22)
    assert last["hit_rate"] == pytest.approx(31 / 40)
    assert last["waste_ratio"] == pytest.approx(1 - 22 / 30)
    assert last["live_wh_avoided"] == pytest.approx(31 * LIVE_JOULES_PER_ANSWER / 3600)

    total = serving.savings_summary(con)
    assert total.nights == NIGHTS_OF_HISTORY
    assert total.hits == nights["hits"].sum() and total.questions == nights["questions"].sum()
    assert total.hit_rate == pytest.approx(total.hits / total.questions)
    assert total.net_wh == pytest.approx(nights["net_wh"].sum())
    assert total.net_co2_g == pytest.approx(nights["net_co2_g"].sum())
    assert total.energy_methods == ("estimate",) and not total.all_measured


def test_energy_by_tier_keeps_each_measurement_method(con, factory):
    energy = serving.energy_by_tier(con)
    last = energy[energy["night"].dt.date == factory.night]
    assert list(zip(last["tier_label"], last["method"])) == [
        ("pipeline", "estimate"), ("tier 0", "estimate"), ("tier 1", "rapl")]
    assert last["wh"].tolist() == pytest.approx([900 / 3600, 1100 / 3600, 400 / 3600])
    tiers = serving.answers_by_tier(con)
    assert tiers[["tier", "model", "answers"]].values.tolist() == [[0, "template", 4], [1, "smollm2-135m", 1]]


def test_live_baseline_is_the_latest_measurement(con):
    baseline = serving.live_baseline(con)
    assert baseline["joules_per_answer"] == LIVE_JOULES_PER_ANSWER and baseline["method"] == "rapl"


def test_pipeline_runs_show_the_failed_run_and_freshness(con, factory):
    runs = serving.run_summary(con)
    assert len(runs) == NIGHTS_OF_HISTORY + 1
    failed = runs[runs["status"] == "failed"]
    assert failed["night"].dt.date.tolist() == [factory.night - timedelta(days=2)]
    assert runs.iloc[0]["night"].date() == factory.night and runs.iloc[0]["status"] == "success"
    assert serving.run_summary(con, nights=2)["night"].nunique() == 2

    assets = serving.pipeline_runs(con, nights=1)
    assert len(assets) == 11 and set(assets["status"]) == {"success"}

    fresh = serving.asset_freshness(con).set_index("asset")
    assert fresh.loc["orders", "last_success_night"].date() == factory.night
    assert fresh.loc["orders", "latest_status"] == "success"
    assert fresh.index[0] == "orders"


def test_quarantine_and_unmapped_backlog(con):
    summary = serving.quarantine_summary(con)
    assert summary[["reason", "rows"]].values.tolist() == [
        ["non-numeric sales 'n/a'", 2], ["bad order_date '31/02/2026'", 1]]
    assert len(serving.quarantine_sample(con, limit=2)) == 2

    backlog = serving.unmapped_backlog(con)
    top = backlog.iloc[0]
    assert top["question"].lower() == "will we hit quota next quarter?"
    assert (top["times_asked"], top["users"]) == (2, 2)
    assert top["closest"] == "revenue_total, trend_monthly"
    assert len(backlog) == 2


def test_a_stale_snapshot_reports_days_behind(tmp_path):
    old = build_snapshot(tmp_path, night=date.today() - timedelta(days=4))
    with open_snapshot(old.snapshot) as con:
        assert serving.freshness(serving.snapshot_info(con), date.today()).days_behind == 3
