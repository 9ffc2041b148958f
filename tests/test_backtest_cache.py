"""The backtest's query cache serves only queries bounded before the cutoff, with unchanged rows."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest

from tests.conftest import superstore_connection
from warehouse.offline.backtest_cache import SettledQueryCache
from warehouse.semantic.facts import build_sales_facts, compute_facts

LINES = [(date(2022, 3, d), 10.0 * d) for d in range(1, 11)]
TOTAL = "SELECT sum(sales) FROM sales_facts WHERE order_date BETWEEN ? AND ?"


def _night(con: duckdb.DuckDBPyConnection, cache: SettledQueryCache, cutoff: date) -> None:
    """sales_facts as the backtest has it on the night of ``cutoff``: the lines before it."""
    con.execute("CREATE OR REPLACE TABLE sales_facts AS SELECT * FROM lines WHERE order_date < ?", [cutoff])
    cache.advance(cutoff)


@pytest.fixture
def toy() -> tuple[duckdb.DuckDBPyConnection, SettledQueryCache]:
    con = duckdb.connect()
    con.execute("CREATE TABLE lines (order_date DATE, sales DOUBLE)")
    con.executemany("INSERT INTO lines VALUES (?, ?)", LINES)
    return con, SettledQueryCache(con)


def test_a_query_ending_before_the_cutoff_is_served_from_memory(toy) -> None:
    con, cache = toy
    _night(con, cache, date(2022, 3, 5))
    first = cache.execute(TOTAL, [date(2022, 3, 1), date(2022, 3, 4)]).fetchall()
    _night(con, cache, date(2022, 3, 9))
    again = cache.execute(TOTAL, [date(2022, 3, 1), date(2022, 3, 4)]).fetchall()
    assert cache.hits == 1
    assert first == again == con.execute(TOTAL, [date(2022, 3, 1), date(2022, 3, 4)]).fetchall() == [(100.0,)]


def test_a_query_touching_the_cutoff_is_recomputed(toy) -> None:
    con, cache = toy
    _night(con, cache, date(2022, 3, 5))
    assert cache.execute(TOTAL, [date(2022, 3, 1), date(2022, 3, 5)]).fetchall() == [(100.0,)]
    _night(con, cache, date(2022, 3, 9))
    assert cache.execute(TOTAL, [date(2022, 3, 1), date(2022, 3, 5)]).fetchall() == [(150.0,)]
    assert cache.hits == 0


def test_a_query_without_dates_is_recomputed(toy) -> None:
    con, cache = toy
    _night(con, cache, date(2022, 3, 5))
    assert cache.execute("SELECT count(*) FROM sales_facts").fetchall() == [(4,)]
    _night(con, cache, date(2022, 3, 9))
    assert cache.execute("SELECT count(*) FROM sales_facts").fetchall() == [(8,)]
    assert cache.hits == 0


def test_the_cutoff_never_moves_back(toy) -> None:
    _, cache = toy
    cache.advance(date(2022, 3, 5))
    with pytest.raises(ValueError):
        cache.advance(date(2022, 3, 4))


INSTANCES = [("why_changed", {"metric": "revenue", "period": "last_month", "compare": "prev", "filters": {}}),
             ("new_vs_returning", {"period": "last_month", "filters": {"region": "West"}}),
             ("trend_monthly", {"metric": "profit", "filters": {}}),
             ("top_products", {"metric": "revenue", "period": "last_week", "n": 5, "filters": {}}),
             ("revenue_vs_prev", {"period": "month_to_date", "filters": {"category": "Furniture"}})]


def test_facts_through_the_cache_equal_uncached() -> None:
    con = superstore_connection()
    cache = SettledQueryCache(con)
    first = date(2022, 3, 8)
    for day in (first + timedelta(days=i) for i in range(4)):
        build_sales_facts(con, before=day)
        cache.advance(day)
        for intent_id, params in INSTANCES:
            assert compute_facts(cache, intent_id, params, day) == compute_facts(con, intent_id, params, day)
    assert cache.hits > 0
