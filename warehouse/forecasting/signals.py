"""Data triggers: what changed inside a scope that will make its owner ask about it.

For each scope and signal metric of the semantic layer (revenue, profit, orders) the value of yesterday, last week and last
month is compared with its usual band — the mean ± ``BAND_SIGMAS`` standard deviations of the same
kind of period before it (the same weekday over 8 weeks, the 8 weeks before, the 6 months before).
A value beyond its band is a signal; so is a period that has just closed (the first working days
of a month bring "why did last month change?").
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import numpy as np

from warehouse.semantic.catalogue import DIMENSIONS, LAYER, METRICS
from warehouse.semantic.facts import TIME, where_clause
from warehouse.forecasting.forecast import Signal
from warehouse.semantic.periods import DateRange, is_month_start, resolve
from warehouse.storage.users import Scope

BAND_SIGMAS = 2.0
DRILL_COLUMNS: tuple[str, ...] = tuple(DIMENSIONS[d].column for d in LAYER.defaults["signal_drills"])
MAX_DRILL_SIGNALS = 4
SIGNAL_METRICS: tuple[str, ...] = tuple(m.name for m in METRICS.values() if m.signal)
_HISTORY_DAYS = 220


@dataclass
class _Series:
    """Cumulative daily sums of one scope member, for O(1) period totals."""

    first_day: date
    cumulative: dict[str, np.ndarray]

    def total(self, column: str, rng: DateRange) -> float:
        lo = max((rng.start - self.first_day).days, 0)
        hi = (rng.end - self.first_day).days + 1
        if hi <= lo:
            return 0.0
        cum = self.cumulative[column]
        hi = min(hi, len(cum) - 1)
        return float(cum[hi] - cum[lo])


def _daily(con: duckdb.DuckDBPyConnection, scope: Scope, asked_on: date, by: str | None = None) -> dict[str, _Series]:
    """Daily values of the signal metrics in ``scope`` (per member of column ``by`` when given)."""
    rng = DateRange(asked_on - timedelta(days=_HISTORY_DAYS), asked_on - timedelta(days=1))
    where, args = where_clause(rng, scope.as_dict())
    group = f"o.{by}" if by else "'*'"
    values = ", ".join(METRICS[m].sql for m in SIGNAL_METRICS)
    rows = con.execute(
        f"SELECT {group} AS member, o.{TIME} AS day, {values} "
        f"FROM sales_facts o WHERE {where} GROUP BY 1, 2", args).fetchall()
    days = rng.days
    arrays: dict[str, np.ndarray] = {}
    for member, day, *daily in rows:
        block = arrays.setdefault(str(member), np.zeros((len(SIGNAL_METRICS), days)))
        block[:, (day - rng.start).days] = [v or 0.0 for v in daily]
    return {member: _Series(rng.start, {c: np.concatenate([[0.0], np.cumsum(block[i])])
                                        for i, c in enumerate(SIGNAL_METRICS)})
            for member, block in arrays.items()}


def _history_ranges(token: str, current: DateRange) -> list[DateRange]:
    if token in ("yesterday", "last_week"):
        return [DateRange(current.start - timedelta(weeks=i), current.end - timedelta(weeks=i)) for i in range(1, 9)]
    out, first = [], current.start
    for _ in range(6):
        end = first - timedelta(days=1)
        first = end.replace(day=1)
        out.append(DateRange(first, end))
    return out


@dataclass(frozen=True)
class _Band:
    """One period of the morning ``asked_on`` and the earlier periods that make its usual band."""

    token: str
    label: str
    current: DateRange
    history: list[DateRange]


def _bands(asked_on: date, periods: tuple[str, ...]) -> list[_Band]:
    """The bands of ``periods``, resolved once per scope rather than once per member."""
    out = []
    for token in periods:
        period = resolve(token, asked_on)
        out.append(_Band(token, period.label, period.current, _history_ranges(token, period.current)))
    return out


def _beyond_band(daily: _Series, bands: list[_Band]):
    """(metric, period, label, sigmas) for every value beyond its usual band."""
    for band in bands:
        for metric in SIGNAL_METRICS:
            value = daily.total(metric, band.current)
            past = [daily.total(metric, r) for r in band.history]
            if not any(past):
                continue
            mean = statistics.fmean(past)
            # pstdev (exact, slow) only when the value may be beyond the band: the population sd is
            # at least range / sqrt(2n) (the two extremes alone give that variance), so a value
            # nearer the mean than BAND_SIGMAS times that is inside whatever the sd (the factor
            # absorbs rounding)
            if abs(value - mean) <= BAND_SIGMAS * (max(past) - min(past)) / math.sqrt(2 * len(past)) * (1 - 1e-9):
                continue
            sd = statistics.pstdev(past)
            if sd > 0 and abs(value - mean) > BAND_SIGMAS * sd:
                yield metric, band.token, band.label, (value - mean) / sd


def _signal(scope: Scope, metric: str, token: str, label: str, sigmas: float, where: str) -> Signal:
    word = "above" if sigmas > 0 else "below"
    detail = f"{metric}{where} {label} was {abs(sigmas):.1f} standard deviations {word} its usual level"
    return Signal(scope.key(), metric, token, detail, min(0.6, 0.15 * abs(sigmas)))


def signals_for_scope(con: duckdb.DuckDBPyConnection, scope: Scope, asked_on: date) -> list[Signal]:
    """The triggers inside one scope for the morning ``asked_on``: the scope as a whole, and
    its categories and states (drill-downs carry their filter in ``Signal.filters``)."""
    where = "" if scope.is_everything else f" in {', '.join(v for _, v in scope.filters)}"
    found: list[Signal] = []
    whole = _bands(asked_on, ("yesterday", "last_week", "last_month"))
    drill = _bands(asked_on, ("last_week", "last_month"))
    for member, daily in _daily(con, scope, asked_on).items():
        for metric, token, label, sigmas in _beyond_band(daily, whole):
            found.append(_signal(scope, metric, token, label, sigmas, where))
    for column in DRILL_COLUMNS:
        if column in scope.as_dict():
            continue
        drills = []
        for member, daily in _daily(con, scope, asked_on, by=column).items():
            for metric, token, label, sigmas in _beyond_band(daily, drill):
                s = _signal(scope, metric, token, label, sigmas, f" in {member}{where.replace(' in ', ', ', 1)}")
                drills.append(Signal(s.scope_key, s.metric, s.period, s.detail, s.strength, {column: member}))
        found.extend(sorted(drills, key=lambda s: (-s.strength, s.detail))[:MAX_DRILL_SIGNALS])
    if is_month_start(asked_on):
        found.append(Signal(scope.key(), LAYER.defaults["metric"], "last_month",
                            f"last month{where} has just closed", 0.12))
    return found


def compute_signals(con: duckdb.DuckDBPyConnection, scopes: list[Scope], asked_on: date) -> list[Signal]:
    """Triggers for every distinct scope."""
    out: list[Signal] = []
    for scope in sorted(set(scopes), key=lambda s: s.key()):
        out.extend(signals_for_scope(con, scope, asked_on))
    return out
