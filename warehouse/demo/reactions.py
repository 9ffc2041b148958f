"""What the simulated users react to: revenue or profit outside its trailing band in their scope,
week by week and month by month, asked about on the next working days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from warehouse.demo.personas import QUIET_ROLES, REACTION_DIMS, Ask
from warehouse.storage.users import User


@dataclass(frozen=True)
class Signal:
    day: date                      # first working day after the period closed
    metric: str
    period: str                    # last_week or last_month
    focus: tuple[tuple[str, str], ...]
    change: float
    strength: float                # distance from the trailing baseline in bands (> 1)


def next_working_day(d: date) -> date:
    return pd.Timestamp(np.busday_offset(np.datetime64(d, "D"), 0, roll="forward")).date()


def _band_signals(table: pd.DataFrame, keys: list[tuple[str, tuple]], period: str, window: int, *,
                  last: pd.Timestamp, start: date, end: date) -> list[Signal]:
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
    days = [next_working_day((e + pd.Timedelta(days=1)).date()) for e in ends]
    closed = np.array([e <= last and start <= d <= end for e, d in zip(ends, days)])
    hits = np.argwhere((strength > 1) & (raw_mean > 0) & closed[:, None])
    return [Signal(days[i], keys[j][0], period, keys[j][1], float(change[i, j]), float(strength[i, j]))
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
             last: pd.Timestamp) -> list[Signal]:
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
        out += _band_signals(table, keys, period, window, last=last, start=start, end=end)
    return out


def due_reactions(user: User, signals: list[Signal], rng: np.random.Generator) -> dict[date, list[Ask]]:
    """Which moves the user asks about (the strongest one or two of a day), and on which working day."""
    by_day: dict[date, list[Signal]] = {}
    for s in signals:
        by_day.setdefault(s.day, []).append(s)
    scope = tuple(sorted(user.scope.as_dict().items()))
    out: dict[date, list[Ask]] = {}
    for day in sorted(by_day):
        best: dict[tuple, Signal] = {}
        for s in sorted(by_day[day], key=lambda s: -s.strength):
            best.setdefault(s.focus, s)
        for rank, s in enumerate(sorted(best.values(), key=lambda s: -s.strength)[:2]):
            if rng.random() >= min(0.95, 0.4 + 0.25 * (s.strength - 1)) / (1 + 2 * rank):
                continue
            when = day if rng.random() < 0.75 else next_working_day(day + timedelta(days=1))
            focus = s.focus + (scope if rng.random() < 0.4 else ())
            out.setdefault(when, []).append(Ask("reaction", s.metric, s.period, None, tuple(sorted(set(focus))),
                                                direction="down" if s.change < 0 else "up", change=s.change))
    return out


# ---------------------------------------------------------------------------------------------
# The calendar and one user's log
# ---------------------------------------------------------------------------------------------

def canonical_orders(orders: pd.DataFrame) -> pd.DataFrame:
    frame = orders.copy()
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    for column in ("sales", "profit"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").fillna(0.0)
    return frame


def watched(user: User, scoped: pd.DataFrame, cache: dict, start: date, end: date,
             last: pd.Timestamp) -> list[Signal]:
    """The moves in the user's scope they may react to (none for admins and data engineers)."""
    if user.role in QUIET_ROLES:
        return []
    dims = REACTION_DIMS.get(user.role, ("category",))
    key = (user.scope.key(), dims)
    if key not in cache:
        cache[key] = _signals(scoped, dims, start, end, last)
    return cache[key]
