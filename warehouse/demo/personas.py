"""Simulated people: each role's pool of habits, and a user's persona drawn from it (habits with
personal variations, a voice, a favourite phrasing).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from warehouse.demo.vocabulary import (
    crc,
    draw_entity,
    pick,
    pick_weighted,
    uniform,
)
from warehouse.storage.users import User


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
QUIET_ROLES = ("admin", "data_engineer")
# Columns each role watches for reactions (besides its whole scope).
REACTION_DIMS: dict[str, tuple[str, ...]] = {
    "vp_sales": ("region", "category"), "regional_manager": ("state", "category"),
    "category_manager": ("sub_category", "region"), "segment_lead": ("region", "category"),
    "sales_rep": ("category",),
}

# ---------------------------------------------------------------------------------------------
# Small random helpers
# ---------------------------------------------------------------------------------------------


def _voice(rng: np.random.Generator) -> Voice:
    archetype = pick(rng, ((0.7, 0.05, 0.25), (0.3, 0.62, 0.08), (0.62, 0.25, 0.13), (0.42, 0.05, 0.53)))
    terse = archetype[1] > 0.5
    return Voice(registers=archetype, lowercase=uniform(rng, (0.2, 0.6) if terse else (0.0, 0.25)),
                 drop_qmark=uniform(rng, (0.0, 0.5)), loyalty=uniform(rng, (0.6, 0.9)))


def _habit(spec: _Spec, user: User, vocab: dict, mention_scope: bool, rng: np.random.Generator) -> Habit | None:
    """A user's version of a pool habit; None when it makes no sense in their scope."""
    scope = user.scope.as_dict()
    focus = tuple(sorted(scope.items())) if mention_scope else ()
    free_dims = [d for d in spec.dims if d not in scope and len(vocab.get(d, ((),))[0]) > 1]
    dim, entity = (pick(rng, free_dims) if free_dims else ""), None
    if spec.kind in ("top", "movers", "share", "why") and not dim:
        return None
    if spec.kind == "trend":
        dim = pick(rng, spec.dims)
    if spec.kind == "share":
        entity = (dim, draw_entity(rng, vocab, dim))
    if spec.drill and dim and rng.random() < spec.drill:
        focus = tuple(sorted(set(focus) | {(dim, draw_entity(rng, vocab, dim))}))
    metric = pick_weighted(rng, spec.metrics, [2.0] + [1.0] * (len(spec.metrics) - 1))
    ask = Ask(kind=spec.kind, metric=metric, period=pick(rng, spec.periods), compare=pick(rng, spec.compares),
              focus=focus, n=int(rng.choice([3, 5, 10], p=[0.3, 0.5, 0.2])), dim=dim or "product_name",
              direction="bottom" if rng.random() < spec.bottom else "top", entity=entity)
    return Habit(spec.cadence, uniform(rng, spec.p), ask, int(rng.integers(2**31)))


def build_persona(user: User, vocab: dict, seed: int) -> Persona:
    """Draw a user's persona: habits from their role's pool, voice and hours; ``vocab`` is their scope's."""
    rng = np.random.default_rng([seed, crc(user.user_id), 1])
    pool = _ROLE_HABITS.get(user.role, _ROLE_HABITS["vp_sales"])
    optional = np.arange(_CORE_HABITS, len(pool))
    extra = rng.choice(optional, size=min(len(optional), int(rng.integers(3, 6))), replace=False)
    mention = uniform(rng, (0.2, 0.8)) if not user.scope.is_everything else 0.0
    habits = [_habit(pool[i], user, vocab, rng.random() < mention, rng)
              for i in [*range(min(_CORE_HABITS, len(pool))), *sorted(int(e) for e in extra)]]
    quiet = user.role in QUIET_ROLES
    return Persona(user=user, voice=_voice(rng), habits=tuple(h for h in habits if h), vocab=vocab,
                   novelty=uniform(rng, (0.06, 0.11)) * (0.15 if quiet else 1.0),
                   hour_mean=uniform(rng, (7.4, 9.0)), hour_sd=uniform(rng, (0.3, 0.6)),
                   afternoon=uniform(rng, (0.04, 0.12)), weekend=0.0 if quiet else uniform(rng, (0.0, 0.06)))


# ---------------------------------------------------------------------------------------------
# Reactions to the data
# ---------------------------------------------------------------------------------------------
