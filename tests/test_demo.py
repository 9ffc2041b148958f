"""Demo data: determinism, Superstore-like shape, weekly/seasonal patterns, planted anomalies, users."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

from warehouse.storage.canonical import CANONICAL_COLUMNS
from warehouse.storage.paths import offpeak_paths
from warehouse.demo.orders import (
    GEOGRAPHY, SUB_CATEGORIES, generate_orders, last_month_window,
    last_week_window, planted_anomalies, write_orders,
)
from warehouse.demo.users import generate_users
from warehouse.storage.ingest import IngestReport, ingest_drop_folder
from warehouse.storage.schema import migrate
from warehouse.storage.users import ROLES, parse_users, users_to_csv

END = date(2026, 11, 18)  # a Wednesday


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    return generate_orders(200_000, END)


def test_same_seed_same_frame_other_seed_other_frame():
    a, b = generate_orders(5_000, END, seed=3), generate_orders(5_000, END, seed=3)
    assert a.equals(b) and a.dtypes.equals(b.dtypes)  # assert_frame_equal is slow on categoricals
    assert not generate_orders(5_000, END, seed=4).sales.equals(a.sales)


def test_shape_columns_and_dimensions(orders):
    assert len(orders) == 200_000 and list(orders.columns) == list(CANONICAL_COLUMNS)
    assert orders.notna().all().all()
    assert 2 < len(orders) / orders.order_id.nunique() < 3
    assert set(orders.region) == set(GEOGRAPHY)
    assert set(orders.sub_category) == {s.name for s in SUB_CATEGORIES}
    assert len(set(orders.sub_category)) == 17
    assert set(orders.category) == {"Technology", "Furniture", "Office Supplies"}
    assert set(orders.segment) == {"Consumer", "Corporate", "Home Office"}
    pairs = orders[["region", "state"]].drop_duplicates().itertuples(index=False)
    assert all(state in GEOGRAPHY[region] for region, state in pairs)
    assert orders.groupby("order_id").customer_id.nunique().max() == 1
    assert orders.groupby("customer_id").state.nunique().max() == 1
    assert orders.order_date.min() >= pd.Timestamp(END - timedelta(days=3 * 366))
    assert orders.order_date.max() <= pd.Timestamp(END)
    assert (orders.ship_date >= orders.order_date).all()
    assert (orders.sales > 0).all() and orders.discount.between(0, 0.8).all()
    assert 0.05 < (orders.profit < 0).mean() < 0.3
    assert 0.1 < orders.profit.sum() / orders.sales.sum() < 0.25


def test_weekdays_are_busier_than_weekends_and_q4_peaks(orders):
    per_day = orders.groupby("order_date").size()
    weekend = per_day.index.day_of_week >= 5
    assert per_day[~weekend].mean() > 2 * per_day[weekend].mean()
    daily_sales = orders.groupby("order_date").sales.sum()
    by_month = daily_sales.groupby(daily_sales.index.month).mean()
    assert by_month[[11, 12]].mean() > 1.3 * by_month[[1, 2]].mean()


def test_sales_grow_year_over_year(orders):
    last_year = orders.order_date > pd.Timestamp(END - timedelta(days=365))
    year_before = ~last_year & (orders.order_date > pd.Timestamp(END - timedelta(days=730)))
    assert orders.sales[last_year].sum() > 1.05 * orders.sales[year_before].sum()


def test_windows_are_the_last_complete_week_and_month_through_the_end_date():
    assert last_week_window(END) == (date(2026, 11, 9), END)
    assert last_week_window(date(2026, 11, 15)) == (date(2026, 11, 9), date(2026, 11, 15))
    assert last_month_window(END) == (date(2026, 10, 1), END)
    assert last_month_window(date(2026, 10, 31)) == (date(2026, 10, 1), date(2026, 10, 31))


def _window_value(orders: pd.DataFrame, filters: dict[str, str], metric: str,
                  start: date, end: date) -> float:
    mask = (orders.order_date >= pd.Timestamp(start)) & (orders.order_date <= pd.Timestamp(end))
    for column, value in filters.items():
        mask &= orders[column] == value
    rows = orders[mask]
    return rows.profit.sum() / rows.sales.sum() if metric == "profit_margin" else rows.sales.sum()


def test_planted_anomalies_stand_out_against_earlier_windows(orders):
    found = {}
    for anomaly in planted_anomalies(END):
        length = timedelta(days=(anomaly.end - anomaly.start).days + 1)
        now = _window_value(orders, anomaly.filters, anomaly.metric, anomaly.start, anomaly.end)
        before = [_window_value(orders, anomaly.filters, anomaly.metric,
                                anomaly.start - k * length, anomaly.end - k * length) for k in range(2, 6)]
        found[anomaly.name] = (now, float(np.mean(before)))
    spike, drop, margin = found["spike"], found["drop"], found["margin_collapse"]
    assert spike[0] > 2 * spike[1]
    assert drop[0] < 0.7 * drop[1]
    assert margin[0] < 0 < 0.1 < margin[1]


def test_write_orders_chunks_whole_orders_and_ingests(tmp_path):
    paths = offpeak_paths(tmp_path / "home").ensure()
    files = write_orders(paths, 5_000, END, chunk_lines=2_000)
    names = [f.name for f in files]
    assert names[-1] == "demo-returns.csv" and all(n.startswith("demo-orders-") for n in names[:-1])
    chunks = [pd.read_parquet(f) for f in files[:-1]]
    assert all(len(c) <= 2_000 for c in chunks) and sum(len(c) for c in chunks) == 5_000
    ids = [set(c.order_id) for c in chunks]
    assert all(not (a & b) for i, a in enumerate(ids) for b in ids[i + 1:])  # no order split

    con = duckdb.connect(str(paths.warehouse_db))
    migrate(con)
    results = ingest_drop_folder(con, paths.drop_dir)
    assert all(isinstance(r, IngestReport) and r.rows_quarantined == 0 for r in results)
    expected = generate_orders(5_000, END)
    total = con.execute("SELECT count(*), sum(sales) FROM orders").fetchone()
    assert total[0] == 5_000 and total[1] == pytest.approx(expected.sales.sum())
    returned = con.execute("SELECT count(*), count(*) FILTER (WHERE order_id IN "
                           "(SELECT order_id FROM orders)) FROM returns").fetchone()
    assert returned[0] > 0 and returned[0] == returned[1]
    con.close()

    first_bytes = [f.read_bytes() for f in files]
    (paths.drop_dir / "demo-orders-0099.parquet").write_bytes(b"stale")
    (paths.drop_dir / "mine.csv").write_text("order_id\n")
    again = write_orders(paths, 5_000, END, chunk_lines=2_000)
    assert again == files and [f.read_bytes() for f in again] == first_bytes  # same content, same hash
    assert sorted(p.name for p in paths.drop_dir.iterdir()) == sorted([*names, "mine.csv"])


def test_five_users_are_four_regional_managers_and_a_vp():
    users = generate_users(5)
    assert [u.user_id for u in users] == ["u001", "u002", "u003", "u004", "u005"]
    assert Counter(u.role for u in users) == {"regional_manager": 4, "vp_sales": 1}
    assert {u.scope.key() for u in users if u.role == "regional_manager"} == {
        f"region={r}" for r in GEOGRAPHY}
    assert next(u for u in users if u.role == "vp_sales").scope.is_everything


def test_larger_directories_have_every_role_with_valid_scopes():
    users = generate_users(120, seed=11)
    roles = Counter(u.role for u in users)
    assert set(roles) == set(ROLES) and len(users) == 120
    assert roles["vp_sales"] == 2 and roles["admin"] == 1 and roles["data_engineer"] == 1
    assert len({u.user_id for u in users}) == 120 and len({u.name for u in users}) == 120
    assert parse_users(users_to_csv(users)) == users  # scopes survive the users directory
    for u in users:
        scope = u.scope.as_dict()
        if u.role == "sales_rep":
            assert scope["state"] in GEOGRAPHY[scope["region"]]
        if u.role == "segment_lead":
            assert set(scope) == {"region", "segment"}
        if u.role == "category_manager":
            assert set(scope) == {"category"}
    assert generate_users(120, seed=11) == users
