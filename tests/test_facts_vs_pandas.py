"""Every catalogue intent's facts against an independent pandas computation on the real Superstore data.

The oracle reads the CSV files with pandas itself and derives the date ranges from the conventions
written in ``warehouse/semantic/periods.py``'s docstring with pandas periods/offsets (it never calls
``warehouse.semantic.periods``). Metric definitions (the oracle's reading of the catalogue's labels):

- revenue = sum(Sales); profit = sum(Profit); orders = distinct Order IDs; quantity = sum(Quantity);
- aov = revenue / orders; margin = 100 * profit / revenue;
- discount = 100 * mean(Discount) over order lines;
- return_rate = 100 * distinct returned orders / distinct orders (an order is returned when its
  Order ID is in ``returns.csv``);
- customers = distinct Customer IDs; asp = revenue / quantity;
- each metric is 0 over an empty set of lines.

Facts round figures to 2 decimals and percentages to 1, so figures are compared with
``approx(rel=1e-6, abs=0.01)`` and percentages with ``abs=0.051``.
"""

from __future__ import annotations

import functools
import math
from datetime import date, timedelta
from typing import Any

import duckdb
import pandas as pd
import pytest

from warehouse.semantic.catalogue import CATALOGUE
from warehouse.semantic.narrative import template_narrative
from warehouse.storage.paths import REPO_ROOT
from warehouse.semantic.facts import build_sales_facts, compute_facts
from warehouse.storage.ingest import ingest_file
from warehouse.storage.schema import migrate

DATA = REPO_ROOT.parent / "shared" / "data" / "superstore_sales"

NOV = date(2022, 11, 22)   # a Tuesday
JUL = date(2022, 7, 1)     # first day of Q3 (a Friday)
MAR = date(2022, 3, 7)     # a Monday
MAR1 = date(2022, 3, 1)    # first day of a month
JAN20 = date(2020, 1, 1)   # Jan 1: last_year = 2019, the first year of data
WEST = {"region": "West"}
FURN = {"category": "Furniture"}

# ------------------------------------------------------------------------------------------------
# fixtures
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def con():
    if not (DATA / "orders.csv.gz").exists():
        pytest.skip(f"Superstore sample not found at {DATA}")
    connection = duckdb.connect(":memory:")
    connection.execute("SET enable_progress_bar = false")
    connection.execute("SET threads = 1")   # tiny queries: thread hand-offs cost more than they save
    migrate(connection)
    ingest_file(connection, DATA / "orders.csv.gz")
    ingest_file(connection, DATA / "returns.csv")
    assert build_sales_facts(connection) == 10_194
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    if not (DATA / "orders.csv.gz").exists():
        pytest.skip(f"Superstore sample not found at {DATA}")
    raw = pd.read_csv(DATA / "orders.csv.gz", dtype={"Postal Code": str})
    frame = pd.DataFrame({
        "order_id": raw["Order ID"].str.strip(),
        "order_date": pd.to_datetime(raw["Order Date"], format="%Y-%m-%d"),
        "customer_id": raw["Customer ID"].str.strip(),
        "customer_name": raw["Customer Name"].str.strip(),
        "segment": raw["Segment"].str.strip(),
        "region": raw["Region"].str.strip(),
        "state": raw["State/Province"].str.strip(),
        "city": raw["City"].str.strip(),
        "category": raw["Category"].str.strip(),
        "sub_category": raw["Sub-Category"].str.strip(),
        "product_name": raw["Product Name"].str.strip(),
        "ship_mode": raw["Ship Mode"].str.strip(),
        "sales": raw["Sales"].astype(float),
        "quantity": raw["Quantity"].astype(float),
        "discount": raw["Discount"].astype(float),
        "profit": raw["Profit"].astype(float),
    })
    returned_ids = set(pd.read_csv(DATA / "returns.csv")["Order ID"].str.strip())
    frame["returned"] = frame["order_id"].isin(returned_ids)
    assert len(frame) == 10_194
    return frame.sort_values("order_date", kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------------------------------------
# the oracle: periods (from the docstring of warehouse/semantic/periods.py, with pandas Periods)
# ------------------------------------------------------------------------------------------------

WEEK_BASED = {"yesterday", "last_7_days", "last_30_days", "last_week", "this_week"}
CALENDAR_FREQ = {"last_month": "M", "last_quarter": "Q", "last_year": "Y"}
TO_DATE_FREQ = {"month_to_date": "M", "quarter_to_date": "Q", "year_to_date": "Y"}

Range = tuple[date, date]   # inclusive; empty when start > end


def _d(ts) -> date:
    return pd.Timestamp(ts).date()


@functools.lru_cache(maxsize=None)
def oracle_period(token: str, asked: date) -> Range:
    y = asked - timedelta(days=1)
    ts = pd.Timestamp(asked)
    if token == "yesterday":
        return y, y
    if token == "last_7_days":
        return asked - timedelta(days=7), y
    if token == "last_30_days":
        return asked - timedelta(days=30), y
    if token == "last_week":
        p = ts.to_period("W-SUN") - 1          # Monday..Sunday weeks
        return _d(p.start_time), _d(p.end_time)
    if token == "this_week":
        return _d(ts.to_period("W-SUN").start_time), y
    if token in CALENDAR_FREQ:
        p = ts.to_period(CALENDAR_FREQ[token]) - 1
        return _d(p.start_time), _d(p.end_time)
    if token in TO_DATE_FREQ:
        return _d(ts.to_period(TO_DATE_FREQ[token]).start_time), y
    raise AssertionError(token)


def oracle_compare(token: str, asked: date, compare: str) -> Range:
    start, end = oracle_period(token, asked)
    if compare == "yoy":
        if token in WEEK_BASED:
            return start - timedelta(weeks=52), end - timedelta(weeks=52)
        if token in CALENDAR_FREQ:               # the same calendar month / quarter / year
            freq = CALENDAR_FREQ[token]
            p = pd.Timestamp(asked).to_period(freq) - 1 - {"M": 12, "Q": 4, "Y": 1}[freq]
            return _d(p.start_time), _d(p.end_time)
        one_year = pd.DateOffset(years=1)        # to-date periods: the same dates (29 Feb -> 28 Feb)
        return _d(pd.Timestamp(start) - one_year), _d(pd.Timestamp(end) - one_year)
    assert compare == "prev"
    if token in CALENDAR_FREQ:
        p = pd.Timestamp(asked).to_period(CALENDAR_FREQ[token]) - 2
        return _d(p.start_time), _d(p.end_time)
    if start > end:
        return start, start - timedelta(days=1)
    if token == "this_week":                     # the same weekdays of the week before
        return start - timedelta(weeks=1), end - timedelta(weeks=1)
    if token == "year_to_date":                  # the same dates a year earlier
        return oracle_compare(token, asked, "yoy")
    if token in TO_DATE_FREQ:                    # as many days into the previous month / quarter
        previous = pd.Timestamp(asked - timedelta(days=1)).to_period(TO_DATE_FREQ[token]) - 1
        return _d(previous.start_time), min(_d(previous.start_time) + (end - start), _d(previous.end_time))
    days = (end - start).days + 1
    # "the immediately preceding period of equal length": empty when the period itself is empty
    return start - timedelta(days=days), start - timedelta(days=1)


# ------------------------------------------------------------------------------------------------
# the oracle: metrics
# ------------------------------------------------------------------------------------------------

ADDITIVE = {"revenue", "profit", "quantity"}   # distinct orders do not add up across members
DRIVER_DIMS = ("category", "sub_category", "region", "segment", "state")
DIM_COLUMN = {"product": "product_name", "customer": "customer_name", "state": "state",
              "sub_category": "sub_category", "category": "category", "region": "region",
              "segment": "segment", "city": "city", "ship_mode": "ship_mode"}


_LINES_CACHE: dict[tuple, pd.DataFrame] = {}


def lines(df: pd.DataFrame, rng: Range, filters: dict[str, str]) -> pd.DataFrame:
    """The order lines of ``df`` (sorted by day) from rng[0] to rng[1] inclusive, in ``filters``."""
    key = (id(df), rng, tuple(sorted(filters.items())))
    if key not in _LINES_CACHE:
        start, end = rng
        days = df["order_date"].to_numpy()
        lo = days.searchsorted(pd.Timestamp(start).to_datetime64(), side="left")
        hi = days.searchsorted(pd.Timestamp(end).to_datetime64(), side="right")
        sub = df.iloc[lo:max(lo, hi)]
        for column, value in filters.items():
            sub = sub[sub[column] == value]
        _LINES_CACHE[key] = sub
    return _LINES_CACHE[key]


# Metrics undefined over no lines (a ratio, an average): the oracle says None, not 0.
UNDEFINED_WHEN_EMPTY = {"aov", "margin", "discount", "return_rate", "asp", "units_per_order"}


def defined_value(sub: pd.DataFrame, metric: str) -> float | None:
    """A single figure as the answer must state it: None where it is undefined over no lines."""
    return None if sub.empty and metric in UNDEFINED_WHEN_EMPTY else metric_value(sub, metric)


def metric_value(sub: pd.DataFrame, metric: str) -> float:
    if sub.empty:
        return 0.0
    sales, profit = float(sub["sales"].sum()), float(sub["profit"].sum())
    orders = sub["order_id"].nunique()
    if metric == "revenue":
        return sales
    if metric == "profit":
        return profit
    if metric == "orders":
        return float(orders)
    if metric == "quantity":
        return float(sub["quantity"].sum())
    if metric == "aov":
        return sales / orders if orders else 0.0
    if metric == "margin":
        return 100.0 * profit / sales if sales else 0.0
    if metric == "discount":
        return 100.0 * float(sub["discount"].mean())
    if metric == "return_rate":
        return 100.0 * sub.loc[sub["returned"], "order_id"].nunique() / orders if orders else 0.0
    if metric == "customers":
        return float(sub["customer_id"].nunique())
    if metric == "asp":
        units = float(sub["quantity"].sum())
        return sales / units if units else 0.0
    if metric == "units_per_order":
        return float(sub["quantity"].sum()) / orders if orders else 0.0
    raise AssertionError(metric)


def metric_by(sub: pd.DataFrame, metric: str, column: str) -> dict[str, float]:
    if sub.empty:
        return {}
    g = sub.groupby(column, sort=False)
    sales, profit = g["sales"].sum(), g["profit"].sum()
    orders = g["order_id"].nunique()
    if metric == "revenue":
        s = sales
    elif metric == "profit":
        s = profit
    elif metric == "orders":
        s = orders.astype(float)
    elif metric == "quantity":
        s = g["quantity"].sum()
    elif metric == "aov":
        s = sales / orders
    elif metric == "margin":
        s = (100.0 * profit / sales.where(sales != 0)).fillna(0.0)
    elif metric == "discount":
        s = 100.0 * g["discount"].mean()
    elif metric == "return_rate":
        ret = sub[sub["returned"]].groupby(column)["order_id"].nunique().reindex(orders.index, fill_value=0)
        s = 100.0 * ret / orders
    elif metric == "customers":
        s = g["customer_id"].nunique().astype(float)
    elif metric == "asp":
        s = sales / g["quantity"].sum()
    else:
        raise AssertionError(metric)
    return {str(k): float(v) for k, v in s.items()}


def change(value: float, previous: float) -> dict[str, Any]:
    delta = value - previous
    return {"previous": previous, "delta": delta,
            "delta_pct": None if previous == 0 else 100.0 * delta / abs(previous)}


def member_changes(df, metric, column, cur_rng, prev_rng, filters) -> list[dict[str, Any]]:
    cur = metric_by(lines(df, cur_rng, filters), metric, column)
    prev = metric_by(lines(df, prev_rng, filters), metric, column)
    out = [{"label": k, "value": cur.get(k, 0.0), "previous": prev.get(k, 0.0),
            "delta": cur.get(k, 0.0) - prev.get(k, 0.0)} for k in set(cur) | set(prev)]
    return sorted(out, key=lambda r: (-abs(round(r["delta"], 2)), r["label"]))


# ------------------------------------------------------------------------------------------------
# comparison helpers: collect every mismatch of one intent, then fail once with all of them
# ------------------------------------------------------------------------------------------------

PCT_FIELDS = {"delta_pct", "share_pct", "new_share_pct"}


class Check:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def num(self, where: str, got: Any, exp: Any, pct: bool = False) -> None:
        if exp is None or got is None:
            if got is not exp:
                self.errors.append(f"{where}: got {got!r}, expected {exp!r}")
            return
        tol = pytest.approx(exp, rel=1e-6, abs=0.051 if pct else 0.01)
        if not (isinstance(got, (int, float)) and math.isfinite(got) and got == tol):
            self.errors.append(f"{where}: got {got!r}, expected {exp!r}")

    def eq(self, where: str, got: Any, exp: Any) -> None:
        if got != exp:
            self.errors.append(f"{where}: got {got!r}, expected {exp!r}")

    def figures(self, where: str, figures: dict[str, Any], expected: dict[str, Any]) -> None:
        for key, exp in expected.items():
            if key not in figures:
                self.errors.append(f"{where}: key figure {key!r} missing (expected {exp!r})")
            elif isinstance(exp, str) or isinstance(exp, bool):
                self.eq(f"{where}.{key}", figures[key], exp)
            else:
                self.num(f"{where}.{key}", figures[key], exp, pct=key in PCT_FIELDS)

    def ranked(self, where: str, got: list[dict], expected_sorted: list[dict], n: int,
               key_fields: tuple[str, ...], num_fields: tuple[str, ...], sort_value) -> None:
        """``got`` must be the first ``n`` of ``expected_sorted`` (ties may swap members of equal
        sort value, which must then be in label order); every row's numbers must match."""
        want = expected_sorted[:n]
        self.eq(f"{where}: row count", len(got), len(want))
        by_key = {tuple(r[k] for k in key_fields): r for r in expected_sorted}
        for i, row in enumerate(got):
            key = tuple(row.get(k) for k in key_fields)
            if key not in by_key:
                self.errors.append(f"{where}[{i}]: unexpected member {key}")
                continue
            for f in num_fields:
                self.num(f"{where}[{i}] {key}.{f}", row.get(f), by_key[key][f], pct=f in PCT_FIELDS)
        for i, (g, w) in enumerate(zip(got, want)):
            if not sort_value(g) == pytest.approx(sort_value(w), rel=1e-6, abs=0.011):
                self.errors.append(f"{where}[{i}]: got {[g.get(k) for k in key_fields]} "
                                   f"(sort value {sort_value(g)}), expected {[w[k] for k in key_fields]} "
                                   f"(sort value {sort_value(w)})")
        for a, b in zip(got, got[1:]):
            if sort_value(a) == pytest.approx(sort_value(b), rel=1e-9, abs=1e-9):
                ka, kb = (tuple(r.get(k) for k in key_fields) for r in (a, b))
                if ka > kb:
                    self.errors.append(f"{where}: tie {ka} / {kb} not in label order")

    def done(self) -> None:
        assert not self.errors, f"{len(self.errors)} mismatch(es):\n" + "\n".join(self.errors[:40])


def _iso(d: date) -> str:
    return d.isoformat()


def _case(params: dict[str, Any], asked: date) -> str:
    return f"{params} @ {asked}"


# ------------------------------------------------------------------------------------------------
# cases per family
# ------------------------------------------------------------------------------------------------

KPI_CASES = [  # (period, asked_on, filters)
    ("last_month", NOV, {}),
    ("last_week", MAR, WEST),
    ("yesterday", NOV, {}),
    ("quarter_to_date", NOV, FURN),
    ("year_to_date", NOV, {"segment": "Consumer"}),
    ("last_year", MAR, WEST),
    ("last_7_days", JUL, {}),
    ("last_30_days", NOV, FURN),
    ("this_week", NOV, {}),
    ("month_to_date", NOV, WEST),
    ("last_quarter", JUL, {**FURN, **WEST}),
    ("last_year", JAN20, {}),          # 2019: nothing the year before (delta_pct None)
]
# Against last year only: February vs February, and empty to-date periods (their "prev" is
# covered by the edge-case tests below).
KPI_YOY_ONLY_CASES = [("last_month", MAR1, {}), ("quarter_to_date", JUL, {}), ("this_week", MAR, WEST),
                      ("month_to_date", MAR1, {})]

RANKING_CASES = [  # (period, asked_on, filters, n, metric)
    ("last_month", NOV, {}, 5, "revenue"),
    ("last_quarter", JUL, WEST, 3, "margin"),
    ("year_to_date", NOV, FURN, 5, "profit"),
    ("last_year", MAR, {}, 3, "aov"),
    ("last_week", MAR, {}, 5, "orders"),
    ("last_30_days", NOV, {}, 3, "return_rate"),
    ("quarter_to_date", NOV, WEST, 5, "discount"),
    ("last_month", JUL, {}, 3, "quantity"),
    ("yesterday", NOV, {}, 3, "profit"),
    ("quarter_to_date", JUL, {}, 5, "revenue"),      # empty period: no rows
    ("last_month", NOV, WEST, 5, "customers"),
    ("last_quarter", JUL, {}, 3, "asp"),
]

TREND_CASES = [  # (asked_on, metric, filters)
    (NOV, "revenue", {}),
    (JUL, "margin", WEST),
    (MAR, "orders", FURN),
    (NOV, "aov", {}),
    (MAR1, "return_rate", {}),
    (JUL, "discount", {}),
    (NOV, "quantity", WEST),
    (MAR, "profit", {}),
    (date(2019, 3, 1), "revenue", {}),               # buckets before the first order are 0
    (NOV, "customers", {}),
    (JUL, "asp", FURN),
    (MAR, "revenue", {}, 6),                         # "by week, last 6 weeks"
    (JUL, "profit", WEST, 3),
]

BREAKDOWN_CASES = [  # (period, asked_on, filters, metric, dimension)
    ("last_month", NOV, {}, "revenue", "category"),
    ("last_quarter", JUL, {}, "margin", "region"),
    ("year_to_date", NOV, WEST, "orders", "segment"),
    ("last_year", MAR, {}, "revenue", "state"),       # > 20 members: top 20 shown
    ("last_month", NOV, FURN, "profit", "sub_category"),
    ("last_week", MAR, {}, "aov", "city"),
    ("yesterday", NOV, {}, "return_rate", "product"),
    ("month_to_date", NOV, {}, "discount", "customer"),
    ("last_30_days", NOV, {}, "quantity", "region"),
    ("quarter_to_date", JUL, {}, "revenue", "category"),  # empty period
    ("last_month", NOV, {}, "revenue", "ship_mode"),
    ("last_quarter", JUL, WEST, "customers", "ship_mode"),
    ("year_to_date", NOV, {}, "asp", "category"),
]

SHARE_CASES = [  # (period, asked_on, filters, metric, entity)
    ("last_month", NOV, {}, "revenue", {"column": "region", "value": "West"}),
    ("year_to_date", NOV, WEST, "profit", {"column": "category", "value": "Furniture"}),
    ("last_year", MAR, {}, "quantity", {"column": "segment", "value": "Consumer"}),
    ("last_quarter", JUL, {"category": "Technology"}, "orders", {"column": "state", "value": "California"}),
    ("last_week", MAR, {}, "revenue", {"column": "sub_category", "value": "Chairs"}),
    ("yesterday", NOV, {}, "revenue", {"column": "region", "value": "East"}),
    ("quarter_to_date", JUL, {}, "revenue", {"column": "region", "value": "West"}),  # empty period
    ("last_month", NOV, {}, "customers", {"column": "segment", "value": "Corporate"}),
]

MOVERS_CASES = [  # (period, asked_on, filters, metric, dimension, n)
    ("last_month", NOV, {}, "revenue", "sub_category", 5),
    ("last_quarter", JUL, WEST, "profit", "state", 3),
    ("year_to_date", NOV, {}, "margin", "category", 3),
    ("last_week", MAR, {}, "orders", "region", 5),
    ("last_30_days", NOV, FURN, "revenue", "product", 5),
    ("last_year", MAR, {}, "aov", "segment", 3),
    ("month_to_date", NOV, {}, "quantity", "customer", 5),
    ("last_7_days", JUL, {}, "return_rate", "city", 3),
    ("quarter_to_date", NOV, {}, "discount", "region", 3),
    ("last_month", NOV, {}, "customers", "state", 5),
    ("last_quarter", JUL, {}, "asp", "ship_mode", 3),
]

DRIVERS_CASES = [  # (period, asked_on, filters, metric, compare)
    ("last_month", NOV, {}, "revenue", "prev"),
    ("last_month", NOV, {}, "revenue", "yoy"),
    ("last_quarter", JUL, WEST, "profit", "prev"),
    ("year_to_date", NOV, FURN, "orders", "yoy"),
    ("last_week", MAR, {}, "margin", "prev"),
    ("last_year", MAR, {}, "quantity", "prev"),
    ("last_30_days", NOV, {}, "aov", "yoy"),
    ("yesterday", NOV, {}, "return_rate", "prev"),
    ("last_month", JUL, {}, "discount", "prev"),
    ("quarter_to_date", JUL, {}, "revenue", "yoy"),  # empty period and empty comparison
    ("last_month", NOV, {}, "customers", "prev"),
    ("last_quarter", JUL, {}, "asp", "yoy"),
]

CUSTOMERS_CASES = [  # (period, asked_on, filters)
    ("last_month", NOV, {}),
    ("last_year", MAR, {}),
    ("year_to_date", NOV, WEST),
    ("last_week", MAR, FURN),
    ("yesterday", NOV, {}),
    ("last_year", JAN20, {}),          # 2019: the first year, mostly new customers
    ("quarter_to_date", JUL, {}),      # empty period
    # a customer's first order on the period's first day is new (CD-12280, RB-19360, MH-18115)
    ("yesterday", date(2022, 11, 6), {}),
    ("last_month", date(2021, 5, 15), {}),
    ("last_week", date(2021, 8, 30), {}),
]


# ------------------------------------------------------------------------------------------------
# per-family checks
# ------------------------------------------------------------------------------------------------


def _period_figures(token: str, asked: date) -> dict[str, Any]:
    start, end = oracle_period(token, asked)
    return {"period": token, "period_start": _iso(start), "period_end": _iso(end), "as_of": _iso(asked)}


def check_kpi(con, df, intent, chk: Check) -> None:
    metric, compare = intent.fixed["metric"], intent.fixed["compare"]
    shown = "prev" if compare == "none" else compare
    cases = KPI_CASES + (KPI_YOY_ONLY_CASES if shown == "yoy" else [])
    for token, asked, filters in cases:
        params = {"period": token, "filters": filters}
        facts = compute_facts(con, intent.intent_id, params, asked)
        cur, other = oracle_period(token, asked), oracle_compare(token, asked, shown)
        value, previous = defined_value(lines(df, cur, filters), metric), defined_value(lines(df, other, filters), metric)
        where = f"{intent.intent_id} {_case(params, asked)}"
        if value is None:      # nothing to give, nothing to compare
            chk.figures(where, facts.key_figures, {**_period_figures(token, asked), "metric": metric, "value": None,
                                                   "no_lines": True})
            chk.eq(f"{where} chart", facts.chart_data, [])
            continue
        if previous is None:   # the figure, and no 0 to compare it with
            chk.figures(where, facts.key_figures, {**_period_figures(token, asked), "metric": metric, "value": value,
                                                   "compare_no_lines": True})
            chk.eq(f"{where} no change", "direction" in facts.key_figures, False)
            chk.num(f"{where} chart[current]", facts.chart_data[0]["value"], value)
            continue
        chk.figures(where, facts.key_figures, {
            **_period_figures(token, asked), "metric": metric, "compare": shown, "value": value,
            **change(value, previous)})
        delta = value - previous
        if abs(delta) > 0.02 and previous and abs(100 * delta / previous) > 0.1:
            chk.eq(f"{where}.direction", facts.key_figures.get("direction"), "up" if delta > 0 else "down")
        chk.num(f"{where} chart[previous]", facts.chart_data[0]["value"], previous)
        chk.num(f"{where} chart[current]", facts.chart_data[1]["value"], value)


def check_ranking(con, df, intent, chk: Check) -> None:
    dim, direction = intent.fixed["dimension"], intent.fixed["direction"]
    column = DIM_COLUMN[dim]
    for token, asked, filters, n, metric in RANKING_CASES:
        params = {"period": token, "n": n, "metric": metric, "filters": filters}
        facts = compute_facts(con, intent.intent_id, params, asked)
        values = metric_by(lines(df, oracle_period(token, asked), filters), metric, column)
        sign = -1 if direction == "top" else 1
        expected = [{"label": k, "value": v} for k, v in
                    sorted(values.items(), key=lambda kv: (sign * round(kv[1], 6), kv[0]))]
        where = f"{intent.intent_id} {_case(params, asked)}"
        chk.ranked(where, facts.rows, expected, n, ("label",), ("value",), lambda r: r["value"])
        chk.eq(f"{where} ranks", [r.get("rank") for r in facts.rows], list(range(1, len(facts.rows) + 1)))
        chk.figures(where, facts.key_figures, {**_period_figures(token, asked), "metric": metric,
                                               "n": n, "shown": min(n, len(expected))})
        if expected:
            chk.num(f"{where}.value (leader)", facts.key_figures.get("value"), expected[0]["value"])
        else:
            chk.eq(f"{where} leader", facts.key_figures.get("leader"), None)
        chk.eq(f"{where} chart", facts.chart_data, [{"label": r["label"], "value": r["value"]} for r in facts.rows])


def _trend_buckets(grain: str, asked: date, points: int) -> list[Range]:
    freq = "W-SUN" if grain == "week" else "M"
    last = pd.Timestamp(asked).to_period(freq) - 1      # the last complete week / month
    return [(_d(p.start_time), _d(p.end_time)) for p in (last - i for i in range(points - 1, -1, -1))]


def check_trend(con, df, intent, chk: Check) -> None:
    grain = intent.fixed["grain"]
    for asked, metric, filters, *told in TREND_CASES:
        points = told[0] if told else 12       # the default: 12 weeks / months
        params = {"metric": metric, "filters": filters, **({"n": points} if told else {})}
        facts = compute_facts(con, intent.intent_id, params, asked)
        buckets = _trend_buckets(grain, asked, points)
        values = [metric_value(lines(df, b, filters), metric) for b in buckets]
        where = f"{intent.intent_id} {_case(params, asked)}"
        chk.eq(f"{where} periods", [p.get("period") for p in facts.rows], [_iso(b[0]) for b in buckets])
        for i, (p, v) in enumerate(zip(facts.rows, values)):
            chk.num(f"{where} series[{i}] {p.get('period')}", p.get("value"), v)
        first, last = round(values[0], 2), round(values[-1], 2)
        chk.figures(where, facts.key_figures, {
            "metric": metric, "points": points, "value": values[-1], "first_value": values[0],
            "peak": max(values), "low": min(values), **change(last, first)})
        chk.eq(f"{where} chart == rows", facts.chart_data, facts.rows)


def check_breakdown(con, df, intent, chk: Check) -> None:
    for token, asked, filters, metric, dim in BREAKDOWN_CASES:
        params = {"period": token, "metric": metric, "dimension": dim, "filters": filters}
        facts = compute_facts(con, intent.intent_id, params, asked)
        sub = lines(df, oracle_period(token, asked), filters)
        values = metric_by(sub, metric, DIM_COLUMN[dim])
        total = metric_value(sub, metric)
        expected = [{"label": k, "value": v, **({"share_pct": 100 * v / total} if metric in ADDITIVE and total else {})}
                    for k, v in sorted(values.items(), key=lambda kv: (-round(kv[1], 6), kv[0]))]
        where = f"{intent.intent_id} {_case(params, asked)}"
        nums = ("value", "share_pct") if metric in ADDITIVE and total else ("value",)
        chk.ranked(where, facts.rows, expected, 20, ("label",), nums, lambda r: r["value"])
        if not (metric in ADDITIVE and total):
            chk.eq(f"{where} no share_pct", [r for r in facts.rows if "share_pct" in r], [])
        chk.figures(where, facts.key_figures, {**_period_figures(token, asked), "metric": metric,
                                               "dimension": dim, "value": total, "members": len(values)})
        if expected:
            chk.num(f"{where}.leader_value", facts.key_figures.get("leader_value"), expected[0]["value"])


def check_share(con, df, intent, chk: Check) -> None:
    for token, asked, filters, metric, entity in SHARE_CASES:
        params = {"period": token, "metric": metric, "entity": entity, "filters": filters}
        facts = compute_facts(con, intent.intent_id, params, asked)
        rng = oracle_period(token, asked)
        part = metric_value(lines(df, rng, {**filters, entity["column"]: entity["value"]}), metric)
        total = metric_value(lines(df, rng, filters), metric)
        where = f"{intent.intent_id} {_case(params, asked)}"
        chk.figures(where, facts.key_figures, {
            **_period_figures(token, asked), "metric": metric, "entity": entity["value"],
            "entity_column": entity["column"], "value": part, "total": total,
            "share_pct": 100 * part / total if total else 0.0})
        chk.num(f"{where} chart[entity]", facts.chart_data[0]["value"], part)
        chk.num(f"{where} chart[else]", facts.chart_data[1]["value"], total - part)


def check_movers(con, df, intent, chk: Check) -> None:
    for token, asked, filters, metric, dim, n in MOVERS_CASES:
        params = {"period": token, "metric": metric, "dimension": dim, "n": n, "filters": filters}
        facts = compute_facts(con, intent.intent_id, params, asked)
        expected = member_changes(df, metric, DIM_COLUMN[dim], oracle_period(token, asked),
                                  oracle_compare(token, asked, "prev"), filters)
        where = f"{intent.intent_id} {_case(params, asked)}"
        chk.ranked(where, facts.rows, expected, n, ("label",), ("value", "previous", "delta"),
                   lambda r: abs(r["delta"]))
        chk.figures(where, facts.key_figures, {**_period_figures(token, asked), "metric": metric,
                                               "dimension": dim, "n": n})
        if expected:
            chk.num(f"{where}.top_mover_delta", facts.key_figures.get("top_mover_delta"), expected[0]["delta"])


def expected_drivers(df, metric, cur, other, filters) -> list[dict[str, Any]]:
    table = []
    for dim in DRIVER_DIMS:
        if dim in filters:
            continue
        table += [{"dimension": dim, **r} for r in member_changes(df, metric, dim, cur, other, filters)[:3]]
    return sorted(table, key=lambda r: (-abs(round(r["delta"], 2)), r["dimension"], r["label"]))


def check_drivers(con, df, intent, chk: Check) -> None:
    for token, asked, filters, metric, compare in DRIVERS_CASES:
        params = {"period": token, "metric": metric, "compare": compare, "filters": filters}
        facts = compute_facts(con, intent.intent_id, params, asked)
        cur, other = oracle_period(token, asked), oracle_compare(token, asked, compare)
        value, previous = metric_value(lines(df, cur, filters), metric), metric_value(lines(df, other, filters), metric)
        expected = expected_drivers(df, metric, cur, other, filters)
        where = f"{intent.intent_id} {_case(params, asked)}"
        chk.figures(where, facts.key_figures, {**_period_figures(token, asked), "metric": metric,
                                               "compare": compare, "value": value, **change(value, previous)})
        chk.ranked(where, facts.rows, expected, 8, ("dimension", "label"), ("value", "previous", "delta"),
                   lambda r: abs(r["delta"]))
        if any(r["dimension"] in filters for r in facts.rows):
            chk.errors.append(f"{where}: a driver row on a filtered dimension")
        if expected:
            chk.num(f"{where}.top_driver_delta", facts.key_figures.get("top_driver_delta"), expected[0]["delta"])


def check_customers(con, df, intent, chk: Check) -> None:
    first_day = df.groupby("customer_id")["order_date"].min()   # first order ever, in any scope
    for token, asked, filters in CUSTOMERS_CASES:
        params = {"period": token, "filters": filters}
        facts = compute_facts(con, intent.intent_id, params, asked)
        rng = oracle_period(token, asked)
        sub = lines(df, rng, filters)
        is_new = sub["customer_id"].map(first_day) >= pd.Timestamp(rng[0])
        new, ret = sub[is_new], sub[~is_new]
        n_new, n_ret = new["customer_id"].nunique(), ret["customer_id"].nunique()
        where = f"{intent.intent_id} {_case(params, asked)}"
        total = n_new + n_ret
        chk.figures(where, facts.key_figures, {
            **_period_figures(token, asked), "new_customers": n_new, "returning_customers": n_ret,
            "customers": total, "value": n_new, "new_share_pct": 100 * n_new / total if total else 0.0})
        rows = {r["label"]: r for r in facts.rows}
        chk.eq(f"{where} row labels", [r["label"] for r in facts.rows], ["new", "returning"])
        if set(rows) == {"new", "returning"}:
            chk.eq(f"{where} new.customers", rows["new"]["customers"], n_new)
            chk.eq(f"{where} returning.customers", rows["returning"]["customers"], n_ret)
            chk.num(f"{where} new.revenue", rows["new"]["revenue"], float(new["sales"].sum()))
            chk.num(f"{where} returning.revenue", rows["returning"]["revenue"], float(ret["sales"].sum()))
        # no customer can be both new and returning, and together they are the period's customers
        chk.eq(f"{where} distinct customers", total, sub["customer_id"].nunique())


CHECKS = {"kpi": check_kpi, "ranking": check_ranking, "trend": check_trend, "breakdown": check_breakdown,
          "share": check_share, "movers": check_movers, "drivers": check_drivers, "customers": check_customers}


def test_catalogue_families_are_all_covered():
    assert {i.family for i in CATALOGUE.values()} <= set(CHECKS)
    assert len(CATALOGUE) >= 39


@pytest.mark.parametrize("intent_id", sorted(CATALOGUE))
def test_intent_facts_match_pandas(con, df, intent_id):
    intent = CATALOGUE[intent_id]
    chk = Check()
    CHECKS[intent.family](con, df, intent, chk)
    chk.done()


def test_numbers_whitelist_holds_the_key_figures(con):
    facts = compute_facts(con, "revenue_vs_prev", {"period": "last_month"}, NOV)
    for key in ("value", "previous", "delta", "delta_pct"):
        assert float(facts.key_figures[key]) in facts.numbers
    facts = compute_facts(con, "top_products", {"period": "last_month", "n": 3}, NOV)
    assert all(r["value"] in facts.numbers for r in facts.rows)


def test_oracle_agrees_with_the_readme(df):
    """The pandas side reads the data the README describes (guards the oracle itself)."""
    assert df["order_id"].nunique() == 5_111
    assert df["sales"].sum() == pytest.approx(2_326_534.35, abs=0.01)
    assert df["profit"].sum() == pytest.approx(292_296.81, abs=0.01)
    assert df.loc[df["returned"], "order_id"].nunique() == 296


def test_warehouse_totals_match_pandas(con, df):
    rows = con.execute("SELECT count(*), count(DISTINCT order_id), sum(sales), sum(profit), "
                       "count(DISTINCT CASE WHEN returned THEN order_id END) FROM sales_facts").fetchall()
    lines_, orders, sales, profit, returned = rows[0]
    assert (lines_, orders, returned) == (len(df), df["order_id"].nunique(), 296)
    assert sales == pytest.approx(df["sales"].sum(), abs=0.01)
    assert profit == pytest.approx(df["profit"].sum(), abs=0.01)


# ------------------------------------------------------------------------------------------------
# edge cases of the conventions: empty to-date periods, leap years
# ------------------------------------------------------------------------------------------------



@pytest.mark.parametrize("intent_id,token,asked", [
    ("revenue_vs_prev", "quarter_to_date", JUL),
    ("revenue_total", "quarter_to_date", JUL),
    ("orders_vs_prev", "this_week", MAR),
    ("profit_vs_prev", "month_to_date", MAR1),
])
def test_empty_to_date_period_compares_with_an_empty_period(con, df, intent_id, token, asked):
    facts = compute_facts(con, intent_id, {"period": token}, asked)
    fig = facts.key_figures
    assert fig["value"] == 0
    assert (fig["previous"], fig["delta"], fig["delta_pct"]) == (0, 0, None)




@pytest.mark.parametrize("intent_id", ["revenue_vs_last_year", "why_changed"])
def test_yoy_of_february_is_the_whole_february_before(con, df, intent_id):
    params = {"period": "last_month", "compare": "yoy"}
    facts = compute_facts(con, intent_id, params, date(2021, 3, 15))
    assert facts.key_figures["compare_label"] == "February 2020"


def test_movers_of_an_empty_period_are_empty(con):
    facts = compute_facts(con, "biggest_movers", {"period": "quarter_to_date", "n": 5}, JUL)
    assert facts.rows == []


def test_drivers_of_an_empty_period_vs_prev_are_empty(con):
    facts = compute_facts(con, "why_changed", {"period": "quarter_to_date", "compare": "prev"}, JUL)
    assert facts.rows == [] and facts.key_figures["previous"] == 0


def test_a_ratio_over_no_orders_is_said_so_never_compared_with_zero(con, df):
    days = set(df.loc[df["segment"] == "Home Office", "order_date"].dt.date)
    day = next(d for d in sorted(days) if d - timedelta(days=1) not in days and d + timedelta(days=1) not in days)
    filters = {"segment": "Home Office"}
    after = compute_facts(con, "aov_vs_prev", {"period": "yesterday", "filters": filters}, day + timedelta(days=1))
    text = template_narrative(after)
    assert after.key_figures["compare_no_lines"] and "direction" not in after.key_figures
    assert "no orders on" in text and "$0" not in text, text
    empty = compute_facts(con, "aov_vs_prev", {"period": "yesterday", "filters": filters}, day + timedelta(days=2))
    assert empty.key_figures["value"] is None and "no orders" in template_narrative(empty)
    revenue = compute_facts(con, "revenue_vs_prev", {"period": "yesterday", "filters": filters}, day + timedelta(days=2))
    assert revenue.key_figures["value"] == 0      # a sum over no orders is 0
