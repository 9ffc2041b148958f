"""A deterministic simulated question log (``user_id,asked_at,question``) for demos, tests and backtests.

The model stands in for real sales leaders, so a forecaster that reads only the written log can be
evaluated honestly:

- **Personas.** Every role has a pool of habits (peers share it); each user draws a few of them
  with personal variations: metric, comparison, top-N size, a drill into one state, category or
  segment inside their scope, how likely they ask on a given occasion, and a favourite phrasing
  they mostly repeat. Admins and data engineers ask rarely.
- **Cadences.** Daily check-ins, Monday (sometimes Tuesday) weekly reviews, Friday week-to-date,
  the first working days of a month, quarter or year, and "sometimes" questions on any working day.
- **Reactions.** From ``orders`` (only periods closed before the question day) each user's scope
  is watched week by week and month by month; revenue or profit outside its trailing band (log
  scale for revenue) makes the user ask about it on the next working day or the one after.
- **Novel one-offs** (~10-15 %): look-ups, shipping, stock and forecast questions the product may
  not answer, in the style of real business questions.
- **Surface.** Standard, terse and polite registers, synonyms, lower case, missing question marks
  and ~5 % small typos. Times cluster around each user's personal morning hour on working days.

Everything is drawn from ``numpy`` generators seeded by ``(seed, user_id)``, so a user's log does
not depend on who else is simulated.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from warehouse.storage.users import User

__all__ = ["SIMULATOR_VERSION", "LOG_COLUMNS", "simulate_question_log", "write_question_log", "persona_summary"]

SIMULATOR_VERSION = "1.0"
LOG_COLUMNS: tuple[str, ...] = ("user_id", "asked_at", "question")
DEFAULT_TYPO_RATE = 0.05
_WORDING_DIMS = ("region", "state", "city", "category", "sub_category", "segment",
                 "customer_name", "product_name")

# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

# metric -> (words, plural) synonyms, and terse forms.
_METRIC_WORDS: dict[str, tuple[tuple[str, bool], ...]] = {
    "revenue": (("revenue", False), ("sales", True), ("turnover", False), ("total sales", True)),
    "profit": (("profit", False), ("earnings", True), ("net profit", False)),
    "orders": (("the number of orders", False), ("the order count", False), ("orders", True)),
    "aov": (("average order value", False), ("AOV", False), ("average basket size", False)),
    "margin": (("profit margin", False), ("margin", False), ("margin %", False)),
    "quantity": (("units sold", True), ("quantity sold", False), ("unit volume", False)),
    "discount": (("average discount", False), ("avg discount", False), ("discount rate", False)),
    "return_rate": (("return rate", False), ("returns rate", False), ("share of orders returned", False)),
}
_METRIC_TERSE: dict[str, tuple[str, ...]] = {
    "revenue": ("rev", "sales"), "profit": ("profit", "prof"), "orders": ("orders", "# orders"),
    "aov": ("aov",), "margin": ("margin", "gm%"), "quantity": ("units", "qty"),
    "discount": ("disc", "avg disc"), "return_rate": ("returns", "return rate"),
}
# period -> (words, terse words, to-date?, unit)
_PERIODS: dict[str, tuple[tuple[str, ...], tuple[str, ...], bool, str]] = {
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
_PERIOD_TERSE_COMPARE = {"day": "dod", "week": "wow", "month": "mom", "quarter": "qoq", "year": "yoy"}
_DIM_WORDS: dict[str, tuple[str, tuple[str, ...]]] = {
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
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")

# ---------------------------------------------------------------------------------------------
# Asks, habits and personas
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ask:
    """What a question is about, before it is put into words."""

    kind: str                      # checkin kpi top trend share movers why new_returning reaction
    metric: str = "revenue"
    period: str = "last_week"
    compare: str | None = None     # None, "prev" or "yoy"
    focus: tuple[tuple[str, str], ...] = ()   # filters the text names (drill and/or scope)
    n: int = 5
    dim: str = "product_name"      # ranked / broken-down column, or the grain for trends
    direction: str = "top"         # top/bottom; up/down for reactions
    entity: tuple[str, str] | None = None     # the part whose share is asked
    change: float = 0.0            # relative change, for reactions


@dataclass(frozen=True)
class _Spec:
    """One habit in a role's pool; a user draws the free choices once."""

    kind: str
    cadence: str                   # daily monday friday month_start quarter_start year_start sometimes
    metrics: tuple[str, ...] = ("revenue",)
    periods: tuple[str, ...] = ("last_week",)
    compares: tuple[str | None, ...] = (None,)
    dims: tuple[str, ...] = ()
    drill: float = 0.0             # chance the user's version is about one entity in scope
    p: tuple[float, float] = (0.6, 0.9)
    bottom: float = 0.0            # chance a ranking asks for the worst instead of the best


def _s(kind: str, cadence: str, metrics: str = "revenue", periods: str = "last_week", compares: str = "-",
       dims: str = "", **options) -> _Spec:
    """A pool habit from space-separated choices ('-' is no comparison; product/customer name columns)."""
    columns = tuple({"product": "product_name", "customer": "customer_name"}.get(d, d) for d in dims.split())
    return _Spec(kind, cadence, tuple(metrics.split()), tuple(periods.split()),
                 tuple(None if c == "-" else c for c in compares.split()), columns, **options)


@dataclass(frozen=True)
class Habit:
    """A user's own version of a habit: when, how likely, and what exactly."""

    cadence: str
    probability: float
    ask: Ask
    style_seed: int


@dataclass(frozen=True)
class Voice:
    """How a user words things."""

    registers: tuple[float, float, float]   # standard, terse, polite
    lowercase: float
    drop_qmark: float
    loyalty: float                            # chance a habit comes out in its favourite wording


@dataclass(frozen=True)
class Persona:
    """Everything the simulator draws once per user."""

    user: User
    voice: Voice
    habits: tuple[Habit, ...]
    vocab: dict[str, tuple[tuple[str, ...], tuple[float, ...]]]
    novelty: float
    hour_mean: float
    hour_sd: float
    afternoon: float
    weekend: float


_LEADER_EXTRAS = (
    _s("kpi", "sometimes", "revenue profit", "qtd ytd mtd", "yoy -", p=(0.06, 0.15)),
    _s("kpi", "year_start", "revenue profit", "last_year", "prev", p=(0.6, 0.9)),
)
_ROLE_HABITS: dict[str, tuple[_Spec, ...]] = {
    "vp_sales": (
        _s("checkin", "daily", "revenue", "yesterday", p=(0.5, 0.85)),
        _s("kpi", "monday", "revenue profit", "last_week", "prev yoy", p=(0.7, 0.95)),
        _s("kpi", "month_start", "revenue profit margin", "last_month", "prev yoy", p=(0.75, 0.95)),
        _s("kpi", "quarter_start", "revenue profit", "last_quarter", "yoy prev", p=(0.8, 0.95)),
        _s("top", "monday", "revenue", "last_week", dims="state sub_category customer", p=(0.3, 0.7)),
        _s("share", "month_start", "revenue profit", "last_month", dims="category segment region"),
        _s("trend", "month_start", "revenue profit", dims="month", p=(0.4, 0.8)),
        _s("movers", "monday", "revenue", "last_week", "prev", dims="region sub_category state", p=(0.3, 0.6)),
        _s("kpi", "friday", "revenue orders", "this_week", "prev -", p=(0.4, 0.8)),
        _s("why", "month_start", "profit revenue", "last_month", dims="region category", p=(0.3, 0.6)),
        _s("new_returning", "month_start", "revenue", "last_month last_quarter", p=(0.3, 0.6)),
        _s("kpi", "sometimes", "aov orders margin", "last_month mtd", p=(0.05, 0.12)),
        *_LEADER_EXTRAS,
    ),
    "regional_manager": (
        _s("checkin", "daily", "revenue", "yesterday", p=(0.55, 0.9)),
        _s("kpi", "monday", "revenue profit", "last_week", "prev yoy",
           dims="state category", drill=0.35, p=(0.7, 0.95)),
        _s("kpi", "daily", "revenue orders", "yesterday", "- prev", dims="state", drill=0.5, p=(0.25, 0.5)),
        _s("top", "monday", "revenue profit", "last_week",
           dims="product customer state city", p=(0.4, 0.8), bottom=0.2),
        _s("kpi", "friday", "revenue", "this_week", "prev -", p=(0.4, 0.8)),
        _s("kpi", "month_start", "revenue profit margin", "last_month", "prev yoy", p=(0.7, 0.95)),
        _s("top", "month_start", "revenue profit", "last_month",
           dims="customer product sub_category", p=(0.5, 0.8), bottom=0.3),
        _s("kpi", "quarter_start", "revenue profit", "last_quarter", "yoy", p=(0.7, 0.95)),
        _s("share", "month_start", "revenue", "last_month", dims="category state"),
        _s("kpi", "sometimes", "discount return_rate aov", "mtd last_month", p=(0.05, 0.15)),
        _s("movers", "monday", "revenue", "last_week", "prev", dims="state sub_category", p=(0.3, 0.6)),
        _s("trend", "sometimes", "revenue profit", dims="week", p=(0.05, 0.12)),
        _s("why", "sometimes", "revenue profit", "last_week last_month", dims="state category", p=(0.04, 0.1)),
        *_LEADER_EXTRAS,
    ),
    "category_manager": (
        _s("checkin", "daily", "revenue", "yesterday", p=(0.5, 0.85)),
        _s("kpi", "monday", "revenue quantity", "last_week", "prev yoy",
           dims="sub_category", drill=0.4, p=(0.7, 0.95)),
        _s("top", "monday", "revenue quantity", "last_week", dims="product sub_category", p=(0.5, 0.85)),
        _s("kpi", "month_start", "margin discount profit", "last_month", "prev yoy", p=(0.7, 0.95)),
        _s("share", "month_start", "revenue profit", "last_month", dims="sub_category region"),
        _s("kpi", "sometimes", "return_rate discount", "last_month qtd", p=(0.05, 0.12)),
        _s("movers", "monday", "revenue", "last_week", "prev", dims="sub_category region", p=(0.3, 0.7)),
        _s("kpi", "quarter_start", "revenue margin", "last_quarter", "yoy prev", p=(0.7, 0.95)),
        _s("trend", "month_start", "revenue margin", dims="month", p=(0.4, 0.8)),
        _s("top", "month_start", "profit margin", "last_month",
           dims="product sub_category", p=(0.4, 0.7), bottom=0.6),
        _s("kpi", "friday", "revenue quantity", "this_week", "prev -", p=(0.3, 0.7)),
        *_LEADER_EXTRAS,
    ),
    "segment_lead": (
        _s("checkin", "daily", "revenue", "yesterday", p=(0.5, 0.85)),
        _s("kpi", "monday", "revenue orders aov", "last_week", "prev yoy", dims="region", drill=0.25, p=(0.7, 0.95)),
        _s("new_returning", "month_start", "revenue", "last_month", p=(0.6, 0.9)),
        _s("top", "month_start", "revenue profit", "last_month", dims="customer", p=(0.6, 0.9)),
        _s("kpi", "month_start", "revenue aov profit", "last_month", "prev yoy", p=(0.7, 0.95)),
        _s("share", "month_start", "revenue", "last_month", dims="region category"),
        _s("kpi", "quarter_start", "revenue orders", "last_quarter", "yoy", p=(0.7, 0.95)),
        _s("kpi", "friday", "revenue orders", "this_week", "prev -", p=(0.3, 0.7)),
        _s("new_returning", "monday", "revenue", "last_week", p=(0.2, 0.5)),
        _s("trend", "sometimes", "revenue aov", dims="month week", p=(0.04, 0.1)),
        *_LEADER_EXTRAS,
    ),
    "sales_rep": (
        _s("kpi", "daily", "revenue orders", "yesterday", "-", p=(0.5, 0.85)),
        _s("top", "monday", "revenue", "last_week last_month", dims="customer product", p=(0.5, 0.85)),
        _s("kpi", "friday", "revenue orders", "this_week", "prev -", p=(0.5, 0.85)),
        _s("kpi", "month_start", "revenue quantity", "last_month", "prev yoy", p=(0.7, 0.95)),
        _s("kpi", "sometimes", "revenue", "mtd qtd", "- prev", p=(0.1, 0.25)),
        _s("new_returning", "month_start", "revenue", "last_month", p=(0.3, 0.6)),
        _s("top", "month_start", "revenue quantity", "last_month", dims="product", p=(0.3, 0.7)),
    ),
    "admin": (
        _s("kpi", "sometimes", "orders revenue", "yesterday last_week", p=(0.02, 0.06)),
        _s("kpi", "sometimes", "revenue", "last_month ytd", "prev -", p=(0.01, 0.04)),
        _s("top", "sometimes", "revenue", "last_month", dims="customer state", p=(0.01, 0.03)),
    ),
    "data_engineer": (
        _s("kpi", "sometimes", "orders quantity", "yesterday", p=(0.03, 0.08)),
        _s("kpi", "sometimes", "revenue orders", "last_week mtd", "prev", p=(0.01, 0.04)),
        _s("checkin", "sometimes", "revenue", "yesterday", p=(0.01, 0.03)),
    ),
}
_CORE_HABITS = 2
_QUIET_ROLES = ("admin", "data_engineer")
# Columns each role watches for reactions (besides its whole scope).
_REACTION_DIMS: dict[str, tuple[str, ...]] = {
    "vp_sales": ("region", "category"), "regional_manager": ("state", "category"),
    "category_manager": ("sub_category", "region"), "segment_lead": ("region", "category"),
    "sales_rep": ("category",),
}

# ---------------------------------------------------------------------------------------------
# Small random helpers
# ---------------------------------------------------------------------------------------------


def _crc(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def _pick(rng: np.random.Generator, options: Sequence):
    return options[int(rng.integers(len(options)))]


def _pick_weighted(rng: np.random.Generator, options: Sequence, weights: Sequence[float]):
    cumulative = np.cumsum(weights)
    index = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    return options[min(index, len(options) - 1)]


def _uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(rng.uniform(*bounds))


def _possessive(noun: str) -> str:
    return noun + ("'" if noun.endswith("s") else "'s")


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


# ---------------------------------------------------------------------------------------------
# Scope and entities
# ---------------------------------------------------------------------------------------------


def _scoped(orders: pd.DataFrame, user: User) -> pd.DataFrame:
    """The order lines inside the user's scope (empty if the scope names an absent column)."""
    mask = pd.Series(True, index=orders.index)
    for column, value in user.scope.as_dict().items():
        if column not in orders.columns:
            return orders.iloc[0:0]
        mask &= orders[column] == value
    return orders[mask]


def _vocabulary(scoped: pd.DataFrame) -> dict[str, tuple[tuple[str, ...], tuple[float, ...]]]:
    """Per wording column, the values in scope and weights (square root of their sales)."""
    vocab = {}
    for column in _WORDING_DIMS:
        if column not in scoped.columns or scoped.empty:
            continue
        sales = scoped.groupby(column, sort=True)["sales"].sum().clip(lower=0)
        weights = np.sqrt(sales.to_numpy(dtype=float)) + 1e-6
        vocab[column] = (tuple(str(v) for v in sales.index), tuple(weights / weights.sum()))
    return vocab


def _draw_entity(rng: np.random.Generator, vocab: dict, column: str) -> str | None:
    values, weights = vocab.get(column, ((), ()))
    return _pick_weighted(rng, values, weights) if values else None


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
    return _pick(rng, options).format(v=value)


def _named(focus: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """The filters worth saying: a state makes its region go without saying."""
    columns = {c for c, _ in focus}
    return tuple((c, v) for c, v in focus if not columns & set(_NARROWER.get(c, ())))


def _scope_words(focus: tuple[tuple[str, str], ...], rng: np.random.Generator) -> str:
    """' for Furniture in the West' (leading space) or ''."""
    ordered = sorted(_named(focus), key=lambda cv: cv[0] not in ("category", "sub_category", "segment"))
    return "".join(" " + _place(c, v, rng) for c, v in ordered)


def _entity_words(column: str, value: str) -> str:
    """A part of the business as a noun: 'Technology', 'the Consumer segment', 'the West'."""
    if column == "segment":
        return f"the {value} segment"
    if column == "region":
        return f"the {value}" if value in ("West", "East", "South", "North") else f"the {value} region"
    return value


# ---------------------------------------------------------------------------------------------
# Wording
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Words:
    """The pieces every template is filled from."""

    m: str           # metric words
    plural: bool
    s: str           # scope words, leading space
    p: str           # period words
    c: str           # comparison suffix, leading space or comma
    to_date: bool
    mt: str          # terse metric
    pt: str          # terse period
    st: str          # terse scope, leading space
    ct: str          # terse comparison, leading space

    @property
    def was(self) -> str:
        return {(False, False): "was", (False, True): "were", (True, False): "is", (True, True): "are"}[
            (self.to_date, self.plural)]

    @property
    def fp(self) -> str:
        """'for last week', or 'in October' as it stands."""
        return self.p if self.p.startswith(("in ", "so far")) else f"for {self.p}"

    @property
    def was1(self) -> str:
        return "is" if self.to_date else "was"


def _period_words(period: str, day: date, rng: np.random.Generator) -> str:
    words = _PERIODS[period][0]
    if period == "last_month" and rng.random() < 0.08:
        return f"in {_MONTHS[(day.month - 2) % 12]}"
    if period == "last_quarter" and rng.random() < 0.1:
        return f"in Q{((day.month - 1) // 3 - 1) % 4 + 1}"
    return _pick(rng, words)


def _compare_words(period: str, compare: str | None, said: str, rng: np.random.Generator) -> str:
    """' vs the week before', ', year-over-year' or '' (no comparison); never repeats ``said``."""
    if compare is None:
        return ""
    _, _, to_date, unit = _PERIODS[period]
    if compare == "prev":
        if to_date:
            options = [f"the same point last {unit}", f"last {unit} at this point"]
        else:
            options = [f"the {unit} before", f"the previous {unit}", f"the prior {unit}"]
            if unit in ("week", "month", "quarter") and rng.random() < 0.2:
                return f", {unit}-over-{unit}"
    else:
        if rng.random() < 0.2:
            return ", year-over-year"
        options = (["the year before"] if unit == "year" else
                   ["the same period last year", "last year"] if to_date else
                   [f"the same {unit} last year", "the same period last year", "last year"])
    options = [o for o in options if o not in said] or options
    return " " + _pick(rng, ("vs", "compared to", "compared with", "versus")) + " " + _pick(rng, options)


def _words(ask: Ask, day: date, rng: np.random.Generator) -> _Words:
    m, plural = _pick(rng, _METRIC_WORDS[ask.metric])
    unit = _PERIODS[ask.period][3]
    terse_cmp = ""
    if ask.compare == "prev":
        terse_cmp = " " + _pick(rng, (_PERIOD_TERSE_COMPARE[unit], "vs prior"))
    elif ask.compare == "yoy":
        terse_cmp = " " + _pick(rng, ("yoy", "vs ly"))
    p = _period_words(ask.period, day, rng)
    return _Words(
        m=m, plural=plural, s=_scope_words(ask.focus, rng), p=p,
        c=_compare_words(ask.period, ask.compare, p, rng), to_date=_PERIODS[ask.period][2],
        mt=_pick(rng, _METRIC_TERSE[ask.metric]), pt=_pick(rng, _PERIODS[ask.period][1]),
        st="".join(" " + v.lower() for _, v in _named(ask.focus)), ct=terse_cmp)


def _standard(ask: Ask, w: _Words, rng: np.random.Generator) -> str:
    """A plain question."""
    dim1, dims = _DIM_WORDS.get(ask.dim, ("", ("",)))
    dims = _pick(rng, dims)
    fill = dict(m=w.m, s=w.s, p=w.p, fp=w.fp, c=w.c, was=w.was, was1=w.was1, n=ask.n, dim1=dim1, dims=dims)
    if ask.kind == "checkin":
        options = (["How are we doing {p}{s}?", "How are things going {p}{s}?"] if w.to_date else
                   ["How did {p} go{s}?", "How did we do {p}{s}?", "{P}'s numbers{s}?", "Quick read on {p}{s}?",
                    "How were sales {p}{s}?"])
        return _capitalise(_pick(rng, options).format(P=_capitalise(w.p), **fill))
    if ask.kind == "kpi":
        options = ["What {was} {m}{s} {p}{c}?", "Show me {m}{s} {fp}{c}", "{m}{s} {p}{c}?",
                   "Where {land} on {m}{s} {p}{c}?"]
        fill["land"] = "are we" if w.to_date else "did we land"
    elif ask.kind == "top":
        top, hi = (("top", "best"), "highest") if ask.direction == "top" else (("bottom", "worst"), "lowest")
        fill.update(top=_pick(rng, top), hi=hi)
        options = ["{top} {n} {dims} by {m}{s} {p}?", "Which {n} {dims} had the {hi} {m}{s} {p}?",
                   "What {were} the {top} {n} {dims}{s} by {m} {p}?", "Show me the {top} {n} {dims} by {m}{s} {fp}"]
        fill["were"] = "are" if w.to_date else "were"
        if ask.dim == "customer_name":
            options.append("Who were our {top} {n} customers by {m}{s} {p}?")
    elif ask.kind == "trend":
        grain, horizons = (("weekly", ("the last 8 weeks", "the last 12 weeks", "this quarter")) if ask.dim == "week"
                           else ("monthly", ("the last 12 months", "the last 6 months", "this year")))
        fill.update(grain=grain, unit=ask.dim, h=_pick(rng, horizons), has="have" if w.plural else "has")
        options = ["Show the {grain} {m} trend{s} over {h}", "{m}{s} by {unit} over {h}?",
                   "How {has} {m}{s} trended over {h}?", "{grain} {m} trend{s} for {h}"]
    elif ask.kind == "share":
        fill.update(e=_entity_words(*ask.entity), came="is coming" if w.to_date else "came")
        options = ["What share of {m}{s} {was1} {e} {p}?", "What % of our {m}{s} {came} from {e} {p}?",
                   "{e} share of {m}{s} {p}?", "How much of {m}{s} {p} {was1} {e}?"]
    elif ask.kind == "movers":
        options = ["What were the biggest movers by {dim1}{s} {p}?", "Which {dims} moved the most{s} {p}{c}?",
                   "Biggest gainers and losers among {dims}{s} {p}?", "Biggest {m} movers by {dim1}{s}, {p}{c}"]
    elif ask.kind == "why":
        options = ["Why did {m}{s} change {p}?", "What drove the change in {m}{s} {p}?",
                   "What's behind the {m} numbers{s} {p}?", "Break down the change in {m}{s} {p} by {dim1}",
                   "Drivers of {m}{s} {p}{c}?"]
    else:  # new_returning
        fill["get"] = "have we won" if w.to_date else "did we win"
        options = ["New vs returning customers{s} {p}?", "How many new customers {get}{s} {p}?",
                   "What share of {m}{s} came from returning customers {p}?",
                   "Split of new and repeat customers{s} {fp}"]
    return _capitalise(_pick(rng, options).format(**fill))


def _terse(ask: Ask, w: _Words, rng: np.random.Generator) -> str:
    """A clipped question: 'rev yday west'."""
    st0, part = w.st.strip(), ask.entity[1].lower() if ask.entity else ""
    dims = _pick(rng, _DIM_WORDS.get(ask.dim, ("", ("",)))[1]).lower()
    by_kind = {
        "checkin": [f"{w.pt} numbers{w.st}", f"numbers {w.pt}{w.st}?"],
        "kpi": [f"{w.mt} {w.pt}{w.st}{w.ct}", f"{st0} {w.mt} {w.pt}{w.ct}".strip()],
        "top": [f"{'top' if ask.direction == 'top' else 'bottom'}{ask.n} {dims} {w.pt}{w.st}",
                f"{'top' if ask.direction == 'top' else 'worst'} {ask.n} {dims} by {w.mt} {w.pt}"],
        "trend": [f"{'wkly' if ask.dim == 'week' else 'monthly'} {w.mt} trend{w.st}",
                  f"{w.mt} trend by {ask.dim}{w.st}"],
        "share": [f"{part} share of {w.mt} {w.pt}", f"% {w.mt} from {part} {w.pt}"],
        "movers": [f"movers by {_DIM_WORDS.get(ask.dim, ('', ()))[0]} {w.pt}{w.st}", f"top movers {w.pt}{w.st}"],
        "why": [f"{w.mt} drivers {w.pt}{w.st}", f"why {w.mt} {w.pt}{w.st}?"],
        "new_returning": [f"new vs returning {w.pt}{w.st}", f"new custs {w.pt}{w.st}"],
    }
    return _pick(rng, by_kind[ask.kind])


def _polite(ask: Ask, w: _Words, rng: np.random.Generator) -> str:
    """A long, courteous request wrapped around a noun phrase."""
    dim1, dims = _DIM_WORDS.get(ask.dim, ("", ("",)))
    top = "top" if ask.direction == "top" else "bottom"
    grain = "weekly" if ask.dim == "week" else "monthly"
    horizon = "the last 12 weeks" if ask.dim == "week" else "the last 12 months"
    phrase = {
        "checkin": f"a quick update {w.p}{w.s}" if w.to_date else f"a quick summary of {w.p}{w.s}",
        "kpi": f"{w.m}{w.s} {w.fp}{w.c}",
        "top": f"the {top} {ask.n} {dims[0]} by {w.m}{w.s} {w.fp}",
        "trend": f"the {grain} {w.m} trend{w.s} over {horizon}",
        "share": f"{_possessive(_entity_words(*ask.entity)) if ask.entity else 'the'} share of {w.m}{w.s} {w.fp}",
        "movers": f"the biggest movers by {dim1}{w.s} {w.fp}",
        "why": f"a breakdown of what drove {w.m}{w.s} {w.p}",
        "new_returning": f"new vs returning customers{w.s} {w.fp}",
    }[ask.kind]
    wrappers = ("Could you pull {x}, please?", "Hi, can you send me {x}?",
                "Please share {x} when you get a chance.", "I'd like to see {x}. Thanks!",
                "Good morning! Could I get {x}?", "Would you mind showing me {x}?",
                "Hey team, can I get {x}? I need it for my 10am.",
                "When you have a minute, could you put together {x}?")
    return _pick(rng, wrappers).format(x=phrase)


def _reaction(ask: Ask, w: _Words, rng: np.random.Generator, terse: bool) -> str:
    """A question about a move in the data: 'Why did Furniture sales drop last week?'."""
    named = _named(ask.focus)
    adjective = [(c, v) for c, v in named if c in ("category", "sub_category", "segment")]
    if adjective:
        rest = tuple(cv for cv in named if cv != adjective[0])
        subject = f"{adjective[0][1]} {w.m}{_scope_words(rest, rng)}"
    else:
        subject = f"{w.m}{w.s}"
    down = ask.direction == "down"
    if terse:
        return f"why {w.st.strip()} {w.mt} {'down' if down else 'up'} {w.pt}?".replace("  ", " ")
    pct, verb = round(abs(ask.change) * 100), w.was
    move = _pick(rng, ("drop", "fall", "decline", "dip") if down else ("jump", "spike", "rise"))
    options = [f"Why did {subject} {move} {w.p}?",
               f"What happened to {subject} {w.p}?",
               f"{_capitalise(subject)} {verb} way {'down' if down else 'up'} {w.p}, what drove it?",
               f"Can someone explain the {'drop' if down else 'spike'} in {subject} {w.p}?",
               f"What's behind the {'decline' if down else 'jump'} in {subject} {w.p}?"]
    if 10 <= pct <= 300:
        options.append(f"{_capitalise(subject)} {'fell' if down else 'rose'} {pct}% {w.p}, why?")
    return _capitalise(_pick(rng, options))


def _render(ask: Ask, voice: Voice, day: date, rng: np.random.Generator) -> str:
    """Put an ask into words in the user's voice (register, case, question mark)."""
    w = _words(ask, day, rng)
    register = _pick_weighted(rng, ("standard", "terse", "polite"), voice.registers)
    if ask.kind == "reaction":
        text = _reaction(ask, w, rng, terse=register == "terse")
    elif register == "terse":
        text = _terse(ask, w, rng)
    elif register == "polite":
        text = _polite(ask, w, rng)
    else:
        text = _standard(ask, w, rng)
    return _finish(text, voice, rng)


def _finish(text: str, voice: Voice, rng: np.random.Generator) -> str:
    text = " ".join(text.split())
    if rng.random() < voice.lowercase:
        text = text.lower()
    if text.endswith("?") and rng.random() < voice.drop_qmark:
        text = text[:-1]
    return text


# ---------------------------------------------------------------------------------------------
# Novel one-offs
# ---------------------------------------------------------------------------------------------

# (template, slots it needs). Many are look-ups, shipping, stock or forecast questions.
_NOVEL: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("How many orders has {customer_name} placed {p}?", ("customer_name",)),
    ("When was {customer_name}'s last order?", ("customer_name",)),
    ("What did {customer_name} buy last time?", ("customer_name",)),
    ("Which products did {customer_name} order {p}?", ("customer_name",)),
    ("What is the total sales of {product_name} {p}?", ("product_name",)),
    ("Who bought {product_name} {p}?", ("product_name",)),
    ("What category does {product_name} belong to?", ("product_name",)),
    ("Which customer placed the largest single order {p}?", ()),
    ("Which product had the highest discount {p}?", ()),
    ("How many customers in {city} ordered {sub_category} {p}?", ("city", "sub_category")),
    ("Compare the number of orders between {sub_category} and {sub_category2} {p}",
     ("sub_category", "sub_category2")),
    ("List 5 customers in {city} who bought {category} {p}", ("city", "category")),
    ("Which city had the most orders {p}?", ()),
    ("How many orders did we sell at a loss {p}?", ()),
    ("Which products did we sell at more than 50% discount {p}?", ()),
    ("Average quantity per order for {sub_category} {p}?", ("sub_category",)),
    ("Which customers haven't ordered in the last 90 days?", ()),
    ("How many customers do we have in {state}?", ("state",)),
    ("What's the average shipping time to {city}?", ("city",)),
    ("How many orders shipped Second Class {p}?", ()),
    ("Which orders from {customer_name} haven't shipped yet?", ("customer_name",)),
    ("Were any {category} orders delivered late {p}?", ("category",)),
    ("Forecast revenue for next month", ()),
    ("What will {category} sales look like next quarter?", ("category",)),
    ("Are we going to hit our Q{q} target?", ()),
    ("What's the pipeline looking like for next quarter?", ()),
    ("Which sales rep closed the most deals {p}?", ()),
    ("How many units of {product_name} do we have in stock?", ("product_name",)),
    ("What is our market share in {state}?", ("state",)),
    ("Who is the account manager for {customer_name}?", ("customer_name",)),
    ("What's the phone number for {customer_name}?", ("customer_name",)),
    ("Projected revenue for the rest of the year?", ()),
    ("Which products were returned the most {p}?", ()),
    ("Email me the weekly report every Monday", ()),
)
_NOVEL_PERIODS = ("last month", "this year", "last quarter", "last week", "this month", "in the last 30 days")


def _novel(persona: Persona, day: date, rng: np.random.Generator) -> str:
    """A one-off question outside the user's habits, with entities from their scope."""
    vocab = dict(persona.vocab)
    if "sub_category" in vocab:
        vocab["sub_category2"] = vocab["sub_category"]
    usable = [(t, slots) for t, slots in _NOVEL if all(s in vocab for s in slots)]
    template, slots = _pick(rng, usable)
    fill = {slot: _draw_entity(rng, vocab, slot) for slot in slots}
    if fill.get("sub_category2") == fill.get("sub_category") and "sub_category2" in fill:
        fill["sub_category2"] = next((v for v in vocab["sub_category"][0] if v != fill["sub_category"]), "others")
    fill.update(p=_pick(rng, _NOVEL_PERIODS), q=(day.month - 1) // 3 + 1)
    text = template.format(**fill)
    if rng.random() < persona.voice.registers[2]:
        text = _pick(rng, ("Quick question: ", "Hi, ", "Sorry to bother, ")) + text[0].lower() + text[1:]
    return _finish(text, persona.voice, rng)


# ---------------------------------------------------------------------------------------------
# Personas
# ---------------------------------------------------------------------------------------------


def _voice(rng: np.random.Generator) -> Voice:
    archetype = _pick(rng, ((0.7, 0.05, 0.25), (0.3, 0.62, 0.08), (0.62, 0.25, 0.13), (0.42, 0.05, 0.53)))
    terse = archetype[1] > 0.5
    return Voice(registers=archetype, lowercase=_uniform(rng, (0.2, 0.6) if terse else (0.0, 0.25)),
                 drop_qmark=_uniform(rng, (0.0, 0.5)), loyalty=_uniform(rng, (0.6, 0.9)))


def _habit(spec: _Spec, user: User, vocab: dict, mention_scope: bool, rng: np.random.Generator) -> Habit | None:
    """A user's version of a pool habit; None when it makes no sense in their scope."""
    scope = user.scope.as_dict()
    focus = tuple(sorted(scope.items())) if mention_scope else ()
    free_dims = [d for d in spec.dims if d not in scope and len(vocab.get(d, ((),))[0]) > 1]
    dim, entity = (_pick(rng, free_dims) if free_dims else ""), None
    if spec.kind in ("top", "movers", "share", "why") and not dim:
        return None
    if spec.kind == "trend":
        dim = _pick(rng, spec.dims)
    if spec.kind == "share":
        entity = (dim, _draw_entity(rng, vocab, dim))
    if spec.drill and dim and rng.random() < spec.drill:
        focus = tuple(sorted(set(focus) | {(dim, _draw_entity(rng, vocab, dim))}))
    metric = _pick_weighted(rng, spec.metrics, [2.0] + [1.0] * (len(spec.metrics) - 1))
    ask = Ask(kind=spec.kind, metric=metric, period=_pick(rng, spec.periods), compare=_pick(rng, spec.compares),
              focus=focus, n=int(rng.choice([3, 5, 10], p=[0.3, 0.5, 0.2])), dim=dim or "product_name",
              direction="bottom" if rng.random() < spec.bottom else "top", entity=entity)
    return Habit(spec.cadence, _uniform(rng, spec.p), ask, int(rng.integers(2**31)))


def _build_persona(user: User, vocab: dict, seed: int) -> Persona:
    """Draw a user's persona: habits from their role's pool, voice and hours; ``vocab`` is their scope's."""
    rng = np.random.default_rng([seed, _crc(user.user_id), 1])
    pool = _ROLE_HABITS.get(user.role, _ROLE_HABITS["vp_sales"])
    optional = np.arange(_CORE_HABITS, len(pool))
    extra = rng.choice(optional, size=min(len(optional), int(rng.integers(3, 6))), replace=False)
    mention = _uniform(rng, (0.2, 0.8)) if not user.scope.is_everything else 0.0
    habits = [_habit(pool[i], user, vocab, rng.random() < mention, rng)
              for i in [*range(min(_CORE_HABITS, len(pool))), *sorted(int(e) for e in extra)]]
    quiet = user.role in _QUIET_ROLES
    return Persona(user=user, voice=_voice(rng), habits=tuple(h for h in habits if h), vocab=vocab,
                   novelty=_uniform(rng, (0.06, 0.11)) * (0.15 if quiet else 1.0),
                   hour_mean=_uniform(rng, (7.4, 9.0)), hour_sd=_uniform(rng, (0.3, 0.6)),
                   afternoon=_uniform(rng, (0.04, 0.12)), weekend=0.0 if quiet else _uniform(rng, (0.0, 0.06)))


# ---------------------------------------------------------------------------------------------
# Reactions to the data
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Signal:
    day: date                      # first working day after the period closed
    metric: str
    period: str                    # last_week or last_month
    focus: tuple[tuple[str, str], ...]
    change: float
    strength: float                # distance from the trailing baseline in bands (> 1)


def _next_working_day(d: date) -> date:
    return pd.Timestamp(np.busday_offset(np.datetime64(d, "D"), 0, roll="forward")).date()


def _band_signals(table: pd.DataFrame, keys: list[tuple[str, tuple]], period: str, window: int,
                  last: pd.Timestamp, start: date, end: date) -> list[_Signal]:
    """Periods (rows) where a series (column) left its trailing band; revenue on a log scale."""
    values = table.to_numpy(dtype=float)
    is_revenue = np.array([metric == "revenue" for metric, _ in keys])
    x = np.where(is_revenue, np.log1p(np.clip(values, 0, None)), values)
    trailing = pd.DataFrame(x).shift(1).rolling(window)
    base, sd = trailing.mean().to_numpy(), trailing.std().to_numpy()
    raw_mean = pd.DataFrame(values).shift(1).rolling(window).mean().to_numpy()
    band = np.maximum(np.maximum(2.0 * sd, np.where(is_revenue, np.log(1.35), 0.5 * np.abs(base))), 1e-9)
    with np.errstate(invalid="ignore", divide="ignore"):
        strength = np.abs(x - base) / band
        change = np.where(is_revenue, values / raw_mean - 1, (x - base) / np.abs(base))
    ends = table.index.end_time.normalize()
    days = [_next_working_day((e + pd.Timedelta(days=1)).date()) for e in ends]
    closed = np.array([e <= last and start <= d <= end for e, d in zip(ends, days)])
    hits = np.argwhere((strength > 1) & (raw_mean > 0) & closed[:, None])
    return [_Signal(days[i], keys[j][0], period, keys[j][1], float(change[i, j]), float(strength[i, j]))
            for i, j in hits]


def _period_table(frame: pd.DataFrame, key: pd.Series, dims: tuple[str, ...]) -> tuple[pd.DataFrame, list]:
    """Sales and profit per period (rows) for the whole scope and its six biggest parts per column."""
    series: dict[tuple[str, tuple], pd.Series] = {}
    totals = frame.groupby(key)[["sales", "profit"]].sum()
    series.update({("revenue", ()): totals["sales"], ("profit", ()): totals["profit"]})
    for column in dims:
        if column not in frame.columns or frame[column].nunique() < 2:
            continue
        top = frame.groupby(column)["sales"].sum().nlargest(6).index
        part = frame[frame[column].isin(top)]
        wide = part.groupby([key[part.index], part[column]])[["sales", "profit"]].sum().unstack(column)
        for metric, source in (("revenue", "sales"), ("profit", "profit")):
            series.update({(metric, ((column, str(v)),)): values for v, values in wide[source].items()})
    keys = list(series)
    periods = pd.period_range(key.min(), key.max(), freq=key.dt.freq)
    table = pd.DataFrame({i: series[k] for i, k in enumerate(keys)}).reindex(periods).fillna(0.0)
    return table, keys


def _signals(scoped: pd.DataFrame, dims: tuple[str, ...], start: date, end: date,
             last: pd.Timestamp) -> list[_Signal]:
    """Every weekly and monthly move in the scope (and its top parts) a user sees in [start, end].

    Only periods that closed by ``last`` (the last day with data) count.
    """
    dates = scoped["order_date"]
    frame = scoped[(dates >= pd.Timestamp(start) - pd.Timedelta(days=240)) & (dates < pd.Timestamp(end))]
    if frame.empty:
        return []
    out = []
    for period, freq, window in (("last_week", "W-SUN", 8), ("last_month", "M", 6)):
        table, keys = _period_table(frame, frame["order_date"].dt.to_period(freq), dims)
        out += _band_signals(table, keys, period, window, last, start, end)
    return out


def _reactions(user: User, signals: list[_Signal], rng: np.random.Generator) -> dict[date, list[Ask]]:
    """Which moves the user asks about (the strongest one or two of a day), and on which working day."""
    by_day: dict[date, list[_Signal]] = {}
    for s in signals:
        by_day.setdefault(s.day, []).append(s)
    scope = tuple(sorted(user.scope.as_dict().items()))
    out: dict[date, list[Ask]] = {}
    for day in sorted(by_day):
        best: dict[tuple, _Signal] = {}
        for s in sorted(by_day[day], key=lambda s: -s.strength):
            best.setdefault(s.focus, s)
        for rank, s in enumerate(sorted(best.values(), key=lambda s: -s.strength)[:2]):
            if rng.random() >= min(0.95, 0.4 + 0.25 * (s.strength - 1)) / (1 + 2 * rank):
                continue
            when = day if rng.random() < 0.75 else _next_working_day(day + timedelta(days=1))
            focus = s.focus + (scope if rng.random() < 0.4 else ())
            out.setdefault(when, []).append(Ask("reaction", s.metric, s.period, None, tuple(sorted(set(focus))),
                                                direction="down" if s.change < 0 else "up", change=s.change))
    return out


# ---------------------------------------------------------------------------------------------
# The calendar and one user's log
# ---------------------------------------------------------------------------------------------

_TARGETS: dict[str, tuple[tuple[int, ...], tuple[float, ...]]] = {
    "monday": ((1, 2), (0.85, 0.15)),
    "month_start": ((1, 2, 3), (0.65, 0.25, 0.1)),
    "quarter_start": ((1, 2, 3, 4), (0.5, 0.25, 0.15, 0.1)),
    "year_start": ((1, 2, 3, 4), (0.4, 0.3, 0.2, 0.1)),
}


@lru_cache(maxsize=4096)
def _period_position(cadence: str, day: date) -> tuple[tuple, int]:
    """The period a cadence counts in and the day's working-day rank inside it (1 = first)."""
    if cadence == "monday":
        first, key = day - timedelta(days=day.weekday()), tuple(day.isocalendar()[:2])
    elif cadence == "month_start":
        first, key = day.replace(day=1), (day.year, day.month)
    elif cadence == "quarter_start":
        first, key = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1), (day.year, (day.month - 1) // 3)
    else:
        first, key = date(day.year, 1, 1), (day.year,)
    return key, int(np.busday_count(first, day)) + 1


def _fires(index: int, habit: Habit, day: date, memo: dict, rng: np.random.Generator) -> bool:
    """Whether a habit is asked on a working day; period habits pick their day once per period."""
    if habit.cadence in ("daily", "sometimes"):
        return rng.random() < habit.probability
    if habit.cadence == "friday":
        return day.weekday() == 4 and rng.random() < habit.probability
    key, rank = _period_position(habit.cadence, day)
    if (index, key) not in memo:
        ranks, weights = _TARGETS[habit.cadence]
        memo[(index, key)] = _pick_weighted(rng, ranks, weights) if rng.random() < habit.probability else None
    return memo[(index, key)] == rank


def _times(day: date, count: int, persona: Persona, rng: np.random.Generator) -> list[pd.Timestamp]:
    """A morning session around the user's usual hour; now and then one question later in the day."""
    hour = float(np.clip(rng.normal(persona.hour_mean, persona.hour_sd), 6.5, 11.0))
    hours = []
    for _ in range(count):
        hours.append(_uniform(rng, (10.0, 17.5)) if rng.random() < persona.afternoon else hour)
        hour += (0.5 + rng.exponential(4.0)) / 60
    midnight = pd.Timestamp(day)
    return sorted(midnight + pd.Timedelta(seconds=int(h * 3600)) for h in hours)


def _use_favourite(habit: Habit, persona: Persona, rng: np.random.Generator) -> np.random.Generator:
    return np.random.default_rng(habit.style_seed) if rng.random() < persona.voice.loyalty else rng


def _weekend_question(persona: Persona, day: date, rng: np.random.Generator) -> str:
    periodic = [h for h in persona.habits if h.cadence not in ("daily", "friday")]
    if periodic and rng.random() < 0.6:
        habit = _pick(rng, periodic)
        return _render(habit.ask, persona.voice, day, _use_favourite(habit, persona, rng))
    return _novel(persona, day, rng)


def _simulate_user(persona: Persona, signals: list[_Signal], start: date, end: date,
                   seed: int) -> list[tuple[pd.Timestamp, str]]:
    """One user's questions, day by day: habits that fire, reactions due, then a few one-offs."""
    rng = np.random.default_rng([seed, _crc(persona.user.user_id), 2])
    reactions = _reactions(persona.user, signals, np.random.default_rng([seed, _crc(persona.user.user_id), 3]))
    memo: dict = {}
    rows: list[tuple[pd.Timestamp, str]] = []
    for ts in pd.date_range(start, end, freq="D"):
        day = ts.date()
        if day.weekday() >= 5:
            if rng.random() < persona.weekend:
                when = ts + pd.Timedelta(seconds=int(_uniform(rng, (9.0, 21.0)) * 3600))
                rows.append((when, _weekend_question(persona, day, rng)))
            continue
        texts = [_render(h.ask, persona.voice, day, _use_favourite(h, persona, rng))
                 for i, h in enumerate(persona.habits) if _fires(i, h, day, memo, rng)]
        texts += [_render(a, persona.voice, day, rng) for a in reactions.get(day, [])]
        texts += [_novel(persona, day, rng) for _ in range(rng.binomial(len(texts) + 1, persona.novelty))]
        rows += zip(_times(day, len(texts), persona, rng), texts)
    return rows


# ---------------------------------------------------------------------------------------------
# Surface noise
# ---------------------------------------------------------------------------------------------


def _typo(text: str, rng: np.random.Generator) -> str:
    """One small slip in a word of four letters or more: swapped, dropped or doubled letter."""
    words = text.split(" ")
    candidates = [i for i, word in enumerate(words) if len(word) >= 4 and word.isalpha()]
    if not candidates:
        return text
    i = _pick(rng, candidates)
    word, pos = words[i], int(rng.integers(1, len(words[i]) - 1))
    kind = _pick(rng, ("swap", "drop", "double"))
    if kind == "swap" and word[pos] != word[pos + 1]:
        word = word[:pos] + word[pos + 1] + word[pos] + word[pos + 2:]
    elif kind == "double":
        word = word[:pos] + word[pos] + word[pos:]
    else:
        word = word[:pos] + word[pos + 1:]
    words[i] = word
    return " ".join(words)


def _add_typos(questions: list[str], rate: float, rng: np.random.Generator) -> list[str]:
    """Typos on about ``rate`` of the questions; ``rng`` is theirs alone, so nothing else moves."""
    hits = rng.random(len(questions)) < rate
    return [_typo(q, rng) if hit else q for q, hit in zip(questions, hits)]


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def _canonical_orders(orders: pd.DataFrame) -> pd.DataFrame:
    frame = orders.copy()
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    for column in ("sales", "profit"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").fillna(0.0)
    return frame


def _watched(user: User, scoped: pd.DataFrame, cache: dict, start: date, end: date,
             last: pd.Timestamp) -> list[_Signal]:
    """The moves in the user's scope they may react to (none for admins and data engineers)."""
    if user.role in _QUIET_ROLES:
        return []
    dims = _REACTION_DIMS.get(user.role, ("category",))
    key = (user.scope.key(), dims)
    if key not in cache:
        cache[key] = _signals(scoped, dims, start, end, last)
    return cache[key]


def simulate_question_log(users: list[User], orders: pd.DataFrame, start: date, end: date, seed: int = 11,
                          *, typo_rate: float = DEFAULT_TYPO_RATE) -> pd.DataFrame:
    """Simulate what ``users`` ask from ``start`` to ``end`` (inclusive) given the sales in ``orders``.

    Returns a frame with columns ``user_id, asked_at, question`` sorted by ``asked_at``; the same
    arguments always give the same frame. ``orders`` is in the canonical layout.
    """
    if end < start:
        raise ValueError(f"end {end} is before start {start}; pass start <= end")
    frame = _canonical_orders(orders)
    scoped = {u.scope.key(): _scoped(frame, u) for u in users}
    vocab = {key: _vocabulary(part) for key, part in scoped.items()}
    cache: dict = {}
    rows: list[tuple[str, pd.Timestamp, str]] = []
    for user in users:
        persona = _build_persona(user, vocab[user.scope.key()], seed)
        signals = _watched(user, scoped[user.scope.key()], cache, start, end, frame["order_date"].max())
        asked = _simulate_user(persona, signals, start, end, seed)
        typed = _add_typos([q for _, q in asked], typo_rate, np.random.default_rng([seed, _crc(user.user_id), 4]))
        rows += [(user.user_id, ts, q) for (ts, _), q in zip(asked, typed)]
    log = pd.DataFrame(rows, columns=list(LOG_COLUMNS))
    log["asked_at"] = pd.to_datetime(log["asked_at"]).astype("datetime64[ns]")
    return log.sort_values(["asked_at", "user_id"], kind="stable").reset_index(drop=True)


def write_question_log(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a question log as CSV ``user_id,asked_at,question`` with ISO timestamps; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = frame.loc[:, list(LOG_COLUMNS)].copy()
    out["asked_at"] = pd.to_datetime(out["asked_at"]).dt.strftime("%Y-%m-%dT%H:%M:%S")
    out.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path


def persona_summary(users: list[User], orders: pd.DataFrame, seed: int = 11) -> pd.DataFrame:
    """One row per user habit: cadence, probability per occasion and an example question (for docs)."""
    frame = _canonical_orders(orders)
    example_day = _next_working_day(frame["order_date"].max().date() + timedelta(days=1))
    rows = []
    for user in users:
        persona = _build_persona(user, _vocabulary(_scoped(frame, user)), seed)
        for habit in persona.habits:
            example = _render(habit.ask, replace(persona.voice, lowercase=0.0, drop_qmark=0.0), example_day,
                             np.random.default_rng(habit.style_seed))
            rows.append((user.user_id, user.role, habit.cadence, round(habit.probability, 2), example))
    return pd.DataFrame(rows, columns=["user_id", "role", "cadence", "probability", "example"])
