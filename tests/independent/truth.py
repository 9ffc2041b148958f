"""The oracle: true values of a truth.csv spec, computed with pandas on the raw orders file.

Definitions (this check's own): revenue = sum of `Sales` (returned lines included: bookings),
profit = sum of `Profit`, margin % = 100 * profit / revenue, orders = distinct `Order ID`,
AOV = revenue / orders, units = sum of `Quantity`, units per order = units / orders, active
customers = distinct `Customer ID`, new customers = customers whose first order ever (or first in
the asker's scope: both readings accepted) falls in the period, discount rate = the mean line
`Discount`, or the discount share of list price (1 - sales / (sales / (1 - discount))), or the
sales-weighted mean discount (all three accepted), return rate = returned share of orders, of
lines or of sales (an order is returned when its `Order ID` is in returns.csv; all accepted).
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pandas as pd

RANK_ENTITY_COLUMNS = ("Region", "Segment", "Category", "Sub-Category", "State/Province", "City",
                       "Ship Mode")


class Oracle:
    """Order lines plus returned order ids, and the metric definitions above."""

    def __init__(self, orders: pd.DataFrame, returns_path: Path) -> None:
        self.orders = orders
        self.returned = set(pd.read_csv(returns_path)["Order ID"])
        self.orders = orders.assign(_returned=orders["Order ID"].isin(self.returned))

    def lines(self, filters: dict[str, str], window: tuple[date, date]) -> pd.DataFrame:
        """Lines matching the filters with an order date inside the inclusive window."""
        d = self.orders
        for column, value in filters.items():
            d = d[d[column] == value]
        start, end = (pd.Timestamp(w) for w in window)
        return d[(d["Order Date"] >= start) & (d["Order Date"] <= end)]

    def readings(self, metric: str, filters: dict[str, str],
                 window: tuple[date, date]) -> list[float | None]:
        """Every accepted reading of `metric` ('a|b' lists several); None where undefined."""
        frame = self.lines(filters, window)
        return [self._value(name, frame, filters, window) for name in metric.split("|")]

    def _value(self, name: str, d: pd.DataFrame, filters: dict[str, str],
               window: tuple[date, date]) -> float | None:
        sales, orders = float(d["Sales"].sum()), d["Order ID"].nunique()
        simple = {"revenue": sales, "profit": float(d["Profit"].sum()),
                  "orders": float(orders), "units": float(d["Quantity"].sum()),
                  "customers": float(d["Customer ID"].nunique())}
        if name in simple:
            return simple[name]
        if name == "margin_pct":
            return 100.0 * float(d["Profit"].sum()) / sales if sales else None
        if name == "aov":
            return sales / orders if orders else None
        if name == "units_per_order":
            return float(d["Quantity"].sum()) / orders if orders else None
        if name.startswith("discount"):
            return _discount(name, d)
        if name.startswith("return_rate"):
            return _return_rate(name, d)
        if name == "new_customers":
            return self._new_customers(filters, window)
        if name == "new_customers_global":
            return self._new_customers_global(d, window)
        raise ValueError(f"unknown metric {name!r}")

    def _new_customers(self, filters: dict[str, str], window: tuple[date, date]) -> float:
        """First order in the asker's scope falls in the window."""
        first = self.lines(filters, (date(1900, 1, 1), window[1])).groupby("Customer ID")[
            "Order Date"].min()
        return float((first >= pd.Timestamp(window[0])).sum())

    def _new_customers_global(self, d: pd.DataFrame, window: tuple[date, date]) -> float:
        """New to the company (first order anywhere) and buying in scope during the window."""
        first = self.orders.groupby("Customer ID")["Order Date"].min()
        buyers = set(d["Customer ID"])
        return float(sum(1 for c in buyers if first[c] >= pd.Timestamp(window[0])))

    def by_member(self, metric: str, filters: dict[str, str], window: tuple[date, date],
                  dimension: str) -> dict[str, float]:
        """Metric per member of `dimension` that has order lines in the window."""
        frame = self.lines(filters, window)
        out = {}
        for member, group in frame.groupby(dimension):
            value = self._value(metric, group, filters, window)
            if value is not None:
                out[str(member)] = value
        return out

    def entity_names(self) -> list[str]:
        """Dimension values a header may name as a filter."""
        names: set[str] = set()
        for column in RANK_ENTITY_COLUMNS:
            names |= set(self.orders[column].astype(str).unique())
        return sorted(names)


def _discount(name: str, d: pd.DataFrame) -> float | None:
    if d.empty:
        return None
    if name == "discount_avg":
        return 100.0 * float(d["Discount"].mean())
    if name == "discount_sales_weighted":
        sales = float(d["Sales"].sum())
        return 100.0 * float((d["Discount"] * d["Sales"]).sum()) / sales if sales else None
    gross = float((d["Sales"] / (1.0 - d["Discount"])).sum())
    return 100.0 * (1.0 - float(d["Sales"].sum()) / gross) if gross else None


def _return_rate(name: str, d: pd.DataFrame) -> float | None:
    if d.empty:
        return None
    if name == "return_rate_orders":
        orders = d.groupby("Order ID")["_returned"].first()
        return 100.0 * float(orders.mean())
    if name == "return_rate_lines":
        return 100.0 * float(d["_returned"].mean())
    sales = float(d["Sales"].sum())
    return 100.0 * float(d.loc[d["_returned"], "Sales"].sum()) / sales if sales else None


def change_pct(current: float, previous: float) -> float | None:
    """Relative change in % (None when the previous value is zero)."""
    if previous == 0 or math.isnan(previous):
        return None
    return 100.0 * (current - previous) / abs(previous)
