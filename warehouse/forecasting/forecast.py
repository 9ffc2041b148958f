"""Forecast the questions each user will ask on day D, each with a probability and its reasons.

Signals, all computed from the question log and the data only (never from a simulator):
- **habit**: how often the user asked this question instance on comparable days, with recency
  decay (half-life ``half_life_days``): any day, the same weekday, and — when D is one — the
  first working days of a month or quarter. Smoothed towards a small prior.
- **peers**: the same question as asked by users of the same role, moved into this user's scope.
- **role defaults**: a short list per role, so a new user starts with sensible predictions.
- **data triggers**: a metric in the user's scope moved beyond its usual band, or a period just
  closed (Monday: last week; the 1st: last month, last quarter).

Sources combine as independent chances: p = 1 - prod(1 - p_source).

**k is economic.** Pre-computing answer i costs ``batch_cost`` joules; if the user asks it, it
saves a live answer costing ``live_cost`` joules. The expected net saving of answering the top k
is  sum_{i<=k} p_i * live_cost - k * batch_cost,  which grows while p_i > batch_cost / live_cost.
So k = the number of predictions with p_i above that break-even ratio (at least ``min_k`` when
there are any, at most ``max_k`` as a safety cap). The briefing shows only the most likely
``BRIEFING_CARDS`` of them; the rest wait for the Ask box. Questions several users share are
computed once, which only lowers the real batch cost per user.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Iterable

from warehouse.semantic.catalogue import CATALOGUE, LAYER, instance_key, validate_params
from warehouse.storage.semantic_layer import SemanticLayerError
from warehouse.semantic.periods import is_month_start, is_quarter_start
from warehouse.storage.users import User

def _role_defaults() -> dict[str, list[tuple[str, dict[str, Any], float]]]:
    """The layer's usual questions per role, each checked against the catalogue."""
    out = {}
    for role, items in LAYER.role_defaults.items():
        out[role] = []
        for i, item in enumerate(items):
            where = f"{LAYER.path}: questions.role_defaults.{role}[{i}]"
            if item.intent not in CATALOGUE:
                raise SemanticLayerError(f"{where}: intent {item.intent!r} is not one this layer answers")
            try:
                validate_params(CATALOGUE[item.intent], CATALOGUE[item.intent].bind(dict(item.params)))
            except ValueError as exc:
                raise SemanticLayerError(f"{where}: {exc}") from None
            out[role].append((item.intent, dict(item.params), item.probability))
    return out


ROLE_DEFAULTS = _role_defaults()
# A title the product does not know: no persona's habits are assumed, only the question every
# sales role asks of its own scope (its peers, people with the same title, add the rest).
UNKNOWN_TITLE_DEFAULTS = ROLE_DEFAULTS.pop("unknown_title", [])


@dataclass(frozen=True)
class LoggedQuestion:
    """One past question, already understood (relative params, filters include the scope)."""

    user_id: str
    day: date
    intent_id: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Signal:
    """A data trigger in a scope: e.g. revenue last week beyond its usual band."""

    scope_key: str
    metric: str
    period: str
    detail: str
    strength: float   # 0..1, chance the trigger prompts a question
    filters: dict[str, str] = field(default_factory=dict)   # a drill-down inside the scope


@dataclass
class ForecastConfig:
    half_life_days: float = 28.0
    lookback_days: int = 120
    prior_strength: float = 2.0
    peer_weight: float = 0.5
    live_cost_joules: float = 300.0
    batch_cost_joules: float = 1.0
    min_probability: float = 0.03
    min_k: int = 3
    max_k: int = 40


@dataclass
class Prediction:
    user_id: str
    intent_id: str
    params: dict[str, Any]
    probability: float
    reasons: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return instance_key(self.intent_id, self.params)


def _weight(age_days: int, half_life: float) -> float:
    return 0.5 ** (age_days / half_life)


class _DayFrequency:
    """Decayed share of comparable days on which a question was asked."""

    def __init__(self, target: date, active_days: Iterable[date], cfg: ForecastConfig):
        self.target, self.cfg = target, cfg
        self.days = sorted(active_days)
        self.kinds = {
            "day": lambda d: True,
            "weekday": lambda d: d.weekday() == target.weekday(),
            "month start": lambda d: is_month_start(d) if is_month_start(target) else False,
            "quarter start": lambda d: is_quarter_start(d) if is_quarter_start(target) else False,
        }
        self.denominators = {k: self._mass(f, self.days) for k, f in self.kinds.items()}

    def _mass(self, keep, days) -> float:
        return sum(_weight((self.target - d).days, self.cfg.half_life_days) for d in days if keep(d))

    def best(self, asked_days: list[date], base_rate: float) -> tuple[float, str]:
        """The highest smoothed frequency over the kinds of comparable day, and which kind."""
        best, why = 0.0, ""
        for kind, keep in self.kinds.items():
            denom = self.denominators[kind]
            if denom <= 0:
                continue
            num = self._mass(keep, asked_days)
            p = (num + self.cfg.prior_strength * base_rate) / (denom + self.cfg.prior_strength)
            if p > best:
                best, why = p, kind
        return min(best, 0.98), why


def _habits(user: User, history: list[LoggedQuestion], target: date, cfg: ForecastConfig) -> dict[str, Prediction]:
    days_by_key: dict[str, list[date]] = defaultdict(list)
    params_by_key: dict[str, tuple[str, dict]] = {}
    active = set()
    for q in history:
        active.add(q.day)
        key = instance_key(q.intent_id, q.params)
        if not days_by_key[key] or days_by_key[key][-1] != q.day:
            days_by_key[key].append(q.day)
        params_by_key[key] = (q.intent_id, q.params)
    if not active:
        return {}
    freq = _DayFrequency(target, active, cfg)
    out = {}
    for key, days in days_by_key.items():
        p, kind = freq.best(days, base_rate=0.0)
        if p <= 0:
            continue
        intent_id, params = params_by_key[key]
        last = max(days)
        reason = (f"you asked this on {len(days)} of your last {len(active)} active days"
                  f" (strongest on {kind == 'day' and 'any day' or kind + 's'}); last on {last:%d %b}")
        out[key] = Prediction(user.user_id, intent_id, params, p, [reason])
    return out


def _relative(params: dict[str, Any], scope: dict[str, str]) -> dict[str, Any] | None:
    """A question with its owner's scope taken out (None if it drills into a scope column)."""
    extra = {c: v for c, v in params.get("filters", {}).items() if scope.get(c) != v}
    if set(extra) & set(scope):
        return None
    return {**params, "filters": extra}


def _combine(target: dict[str, Prediction], extra: Prediction) -> None:
    key = extra.key
    if key not in target:
        target[key] = extra
        return
    mine = target[key]
    mine.probability = 1 - (1 - mine.probability) * (1 - extra.probability)
    mine.reasons.extend(extra.reasons)


PEER_SHARE_FLOOR = 0.005  # a peer share at or below this is not worth a prediction


@dataclass
class _PeerPool:
    """What the users of one role ask, scope taken out: relative key -> summed probability."""

    members: int = 0
    totals: dict[str, tuple[str, dict[str, Any], float]] = field(default_factory=dict)
    _version: int = field(default=0, init=False, repr=False, compare=False)
    _shareable: tuple[tuple, list] | None = field(default=None, init=False, repr=False, compare=False)

    def add(self, pred: Prediction, owner_scope: dict[str, str]) -> None:
        rel = _relative(pred.params, owner_scope)
        if rel is None:
            return
        key = instance_key(pred.intent_id, rel)
        _, _, total = self.totals.get(key, (pred.intent_id, rel, 0.0))
        self.totals[key] = (pred.intent_id, rel, total + pred.probability)
        self._version += 1

    def shareable(self, others: int, peer_weight: float):
        """The totals that can give some member a share above PEER_SHARE_FLOOR, in order.

        A member's share is (total - own) / others * peer_weight with 0 <= own, so
        total / others * peer_weight bounds it: the others can never pass the floor. Filtering
        them once per pool (not once per member) keeps forecast_all linear in users: a role
        with 6,000 members and thousands of rarely-asked keys took minutes otherwise.
        """
        if others <= 0 or peer_weight <= 0:
            return self.totals.items()
        key = (self._version, others, peer_weight)
        if self._shareable is None or self._shareable[0] != key:
            self._shareable = (key, [(k, v) for k, v in self.totals.items()
                                     if v[2] / others * peer_weight > PEER_SHARE_FLOOR])
        return self._shareable[1]


def forecast_user(user: User, habits: dict[str, Prediction], pool: _PeerPool, signals: list[Signal],
                  cfg: ForecastConfig) -> list[Prediction]:
    """Predictions for one user, most likely first, cut at the economic k."""
    scope = user.scope.as_dict()
    predictions = {k: Prediction(p.user_id, p.intent_id, p.params, p.probability, list(p.reasons))
                   for k, p in habits.items()}
    others = max(pool.members - 1, 0)
    own_rel = {instance_key(p.intent_id, r): p.probability
               for p in habits.values() if (r := _relative(p.params, scope)) is not None}
    for rel_key, (intent_id, rel, total) in pool.shareable(others, cfg.peer_weight):
        if others == 0 or any(c in scope and scope[c] != v for c, v in rel["filters"].items()):
            continue
        share = (total - own_rel.get(rel_key, 0.0)) / others * cfg.peer_weight
        if share <= PEER_SHARE_FLOOR:
            continue
        moved = {**rel, "filters": {**scope, **rel["filters"]}}
        _combine(predictions, Prediction(user.user_id, intent_id, moved, share,
                                         [f"other {user.role_label}s ask this"]))
    usual = ROLE_DEFAULTS.get(user.persona, []) if user.persona else UNKNOWN_TITLE_DEFAULTS
    for intent_id, params, p in usual:
        bound = CATALOGUE[intent_id].bind({**params, "filters": dict(scope)})
        _combine(predictions, Prediction(user.user_id, intent_id, bound, p,
                                         [f"a usual question for a {user.role_label}"]))
    own_scope = user.scope.key()
    for s in signals if "why_changed" in CATALOGUE else ():
        if s.scope_key != own_scope:
            continue
        bound = CATALOGUE["why_changed"].bind({"metric": s.metric, "period": s.period,
                                               "filters": {**scope, **s.filters}})
        _combine(predictions, Prediction(user.user_id, "why_changed", bound, s.strength, [s.detail]))
    ranked = sorted(predictions.values(), key=lambda p: (-p.probability, p.key))
    return choose_k(ranked, cfg)


def choose_k(ranked: list[Prediction], cfg: ForecastConfig) -> list[Prediction]:
    """Keep the predictions whose expected saving beats their batch cost (see module doc)."""
    break_even = cfg.batch_cost_joules / max(cfg.live_cost_joules, 1e-9)
    floor = max(break_even, cfg.min_probability)
    kept = [p for p in ranked if p.probability > floor][: cfg.max_k]
    if len(kept) < cfg.min_k:
        kept = ranked[: min(cfg.min_k, len(ranked))]
    return kept


def forecast_all(users: list[User], history: list[LoggedQuestion], signals: list[Signal],
                 target: date, cfg: ForecastConfig) -> list[Prediction]:
    """Predictions for every user for day ``target`` from history strictly before it."""
    start = target - timedelta(days=cfg.lookback_days)
    by_user: dict[str, list[LoggedQuestion]] = defaultdict(list)
    for q in history:
        if start <= q.day < target:
            by_user[q.user_id].append(q)
    habits = {u.user_id: _habits(u, by_user.get(u.user_id, []), target, cfg) for u in users}
    pools: dict[str, _PeerPool] = defaultdict(_PeerPool)
    for u in users:
        pool = pools[u.peer_group]
        pool.members += 1
        for pred in habits[u.user_id].values():
            pool.add(pred, u.scope.as_dict())
    by_scope: dict[str, list[Signal]] = defaultdict(list)  # each user reads only their scope's
    for s in signals:
        by_scope[s.scope_key].append(s)
    out: list[Prediction] = []
    for u in users:
        out.extend(forecast_user(u, habits[u.user_id], pools[u.peer_group], by_scope.get(u.scope.key(), []), cfg))
    return out


def reasons_json(reasons: list[str]) -> str:
    """Reasons as stored: a JSON list of short sentences, without repeats."""
    return json.dumps(list(dict.fromkeys(reasons)))
