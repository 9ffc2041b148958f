"""The simulator's word tables and small drawing helpers: metric, period and dimension words,
the entity names a user's scope offers, and seeded random picks.
"""

from __future__ import annotations

import zlib
from typing import Sequence

import numpy as np
import pandas as pd

from warehouse.storage.users import User

SIMULATOR_VERSION = "1.0"
LOG_COLUMNS: tuple[str, ...] = ("user_id", "asked_at", "question")
DEFAULT_TYPO_RATE = 0.05
_WORDING_DIMS = ("region", "state", "city", "category", "sub_category", "segment",
                 "customer_name", "product_name")

# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

# metric -> (words, plural) synonyms, and terse forms.
METRIC_WORDS: dict[str, tuple[tuple[str, bool], ...]] = {
    "revenue": (("revenue", False), ("sales", True), ("turnover", False), ("total sales", True)),
    "profit": (("profit", False), ("earnings", True), ("net profit", False)),
    "orders": (("the number of orders", False), ("the order count", False), ("orders", True)),
    "aov": (("average order value", False), ("AOV", False), ("average basket size", False)),
    "margin": (("profit margin", False), ("margin", False), ("margin %", False)),
    "quantity": (("units sold", True), ("quantity sold", False), ("unit volume", False)),
    "discount": (("average discount", False), ("avg discount", False), ("discount rate", False)),
    "return_rate": (("return rate", False), ("returns rate", False), ("share of orders returned", False)),
}
METRIC_TERSE: dict[str, tuple[str, ...]] = {
    "revenue": ("rev", "sales"), "profit": ("profit", "prof"), "orders": ("orders", "# orders"),
    "aov": ("aov",), "margin": ("margin", "gm%"), "quantity": ("units", "qty"),
    "discount": ("disc", "avg disc"), "return_rate": ("returns", "return rate"),
}
# period -> (words, terse words, to-date?, unit)
PERIODS: dict[str, tuple[tuple[str, ...], tuple[str, ...], bool, str]] = {
    "yesterday": (("yesterday",), ("yday", "yesterday"), False, "day"),
    "last_week": (("last week", "the previous week", "the past week"), ("lw", "last wk"), False, "week"),
    "this_week": (("this week so far", "week to date", "so far this week"), ("wtd",), True, "week"),
    "last_month": (("last month", "the previous month", "the past month"), ("lm", "last mo"), False, "month"),
    "mtd": (("month to date", "this month so far", "so far this month"), ("mtd",), True, "month"),
    "last_quarter": (("last quarter", "the previous quarter", "the past quarter"), ("lq", "last qtr"), False,
                     "quarter"),
    "qtd": (("quarter to date", "this quarter so far"), ("qtd",), True, "quarter"),
    "last_year": (("last year", "the previous year"), ("ly", "last yr"), False, "year"),
    "ytd": (("year to date", "this year so far", "so far this year"), ("ytd",), True, "year"),
}
PERIOD_TERSE_COMPARE = {"day": "dod", "week": "wow", "month": "mom", "quarter": "qoq", "year": "yoy"}
DIM_WORDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "product_name": ("product", ("products", "items", "SKUs")),
    "customer_name": ("customer", ("customers", "accounts", "clients")),
    "state": ("state", ("states",)),
    "city": ("city", ("cities",)),
    "sub_category": ("sub-category", ("sub-categories", "subcategories", "product lines")),
    "category": ("category", ("categories",)),
    "region": ("region", ("regions",)),
    "segment": ("segment", ("segments",)),
}
# A filter on the right makes one on the left redundant in words ("in California", not "West, California").
_NARROWER: dict[str, tuple[str, ...]] = {
    "country": ("region", "state", "city"), "region": ("state", "city"), "state": ("city",),
    "category": ("sub_category", "product_name"), "sub_category": ("product_name",),
}
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")

# ---------------------------------------------------------------------------------------------
# Asks, habits and personas
# ---------------------------------------------------------------------------------------------


def crc(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def pick(rng: np.random.Generator, options: Sequence):
    return options[int(rng.integers(len(options)))]


def pick_weighted(rng: np.random.Generator, options: Sequence, weights: Sequence[float]):
    cumulative = np.cumsum(weights)
    index = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    return options[min(index, len(options) - 1)]


def uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(rng.uniform(*bounds))


def possessive(noun: str) -> str:
    return noun + ("'" if noun.endswith("s") else "'s")


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


# ---------------------------------------------------------------------------------------------
# Scope and entities
# ---------------------------------------------------------------------------------------------


def orders_in_scope(orders: pd.DataFrame, user: User) -> pd.DataFrame:
    """The order lines inside the user's scope (empty if the scope names an absent column)."""
    mask = pd.Series(True, index=orders.index)
    for column, value in user.scope.as_dict().items():
        if column not in orders.columns:
            return orders.iloc[0:0]
        mask &= orders[column] == value
    return orders[mask]


def vocabulary(scoped: pd.DataFrame) -> dict[str, tuple[tuple[str, ...], tuple[float, ...]]]:
    """Per wording column, the values in scope and weights (square root of their sales)."""
    vocab = {}
    for column in _WORDING_DIMS:
        if column not in scoped.columns or scoped.empty:
            continue
        sales = scoped.groupby(column, sort=True)["sales"].sum().clip(lower=0)
        weights = np.sqrt(sales.to_numpy(dtype=float)) + 1e-6
        vocab[column] = (tuple(str(v) for v in sales.index), tuple(weights / weights.sum()))
    return vocab


def draw_entity(rng: np.random.Generator, vocab: dict, column: str) -> str | None:
    values, weights = vocab.get(column, ((), ()))
    return pick_weighted(rng, values, weights) if values else None


def _place(column: str, value: str, rng: np.random.Generator) -> str:
    """A prepositional phrase naming one filter: 'in the West', 'for Furniture'."""
    if column == "region":
        options = ["in the {v} region", "for {v}"]
        if value in ("West", "East", "South", "North"):
            options.append("in the {v}")
    elif column in ("state", "city", "country"):
        options = ["in {v}"]
    elif column == "segment":
        options = ["for the {v} segment", "in the {v} segment", "for {v}"]
    elif column == "channel":
        options = ["in the {v} channel", "through {v}"]
    else:
        options = ["for {v}", "in {v}"] if column in ("category", "sub_category") else ["for {v}"]
    return pick(rng, options).format(v=value)


def named_places(focus: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """The filters worth saying: a state makes its region go without saying."""
    columns = {c for c, _ in focus}
    return tuple((c, v) for c, v in focus if not columns & set(_NARROWER.get(c, ())))


def scope_words(focus: tuple[tuple[str, str], ...], rng: np.random.Generator) -> str:
    """' for Furniture in the West' (leading space) or ''."""
    ordered = sorted(named_places(focus), key=lambda cv: cv[0] not in ("category", "sub_category", "segment"))
    return "".join(" " + _place(c, v, rng) for c, v in ordered)


def entity_words(column: str, value: str) -> str:
    """A part of the business as a noun: 'Technology', 'the Consumer segment', 'the West'."""
    if column == "segment":
        return f"the {value} segment"
    if column == "region":
        return f"the {value}" if value in ("West", "East", "South", "North") else f"the {value} region"
    return value


# ---------------------------------------------------------------------------------------------
# Wording
# ---------------------------------------------------------------------------------------------
