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

from dataclasses import replace
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from warehouse.demo.noise import add_typos
from warehouse.demo.personas import Habit, Persona, build_persona
from warehouse.demo.reactions import (
    Signal,
    canonical_orders,
    due_reactions,
    next_working_day,
    watched,
)
from warehouse.demo.vocabulary import (
    DEFAULT_TYPO_RATE,
    LOG_COLUMNS,
    SIMULATOR_VERSION,
    crc,
    orders_in_scope,
    pick,
    pick_weighted,
    uniform,
    vocabulary,
)
from warehouse.demo.wording import novel, render
from warehouse.storage.users import User

__all__ = ["SIMULATOR_VERSION", "LOG_COLUMNS", "simulate_question_log", "write_question_log", "persona_summary"]

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
        memo[(index, key)] = pick_weighted(rng, ranks, weights) if rng.random() < habit.probability else None
    return memo[(index, key)] == rank


def _times(day: date, count: int, persona: Persona, rng: np.random.Generator) -> list[pd.Timestamp]:
    """A morning session around the user's usual hour; now and then one question later in the day."""
    hour = float(np.clip(rng.normal(persona.hour_mean, persona.hour_sd), 6.5, 11.0))
    hours = []
    for _ in range(count):
        hours.append(uniform(rng, (10.0, 17.5)) if rng.random() < persona.afternoon else hour)
        hour += (0.5 + rng.exponential(4.0)) / 60
    midnight = pd.Timestamp(day)
    return sorted(midnight + pd.Timedelta(seconds=int(h * 3600)) for h in hours)


def _use_favourite(habit: Habit, persona: Persona, rng: np.random.Generator) -> np.random.Generator:
    return np.random.default_rng(habit.style_seed) if rng.random() < persona.voice.loyalty else rng


def _weekend_question(persona: Persona, day: date, rng: np.random.Generator) -> str:
    periodic = [h for h in persona.habits if h.cadence not in ("daily", "friday")]
    if periodic and rng.random() < 0.6:
        habit = pick(rng, periodic)
        return render(habit.ask, persona.voice, day, _use_favourite(habit, persona, rng))
    return novel(persona, day, rng)


def _simulate_user(persona: Persona, signals: list[Signal], start: date, end: date,
                   seed: int) -> list[tuple[pd.Timestamp, str]]:
    """One user's questions, day by day: habits that fire, reactions due, then a few one-offs."""
    rng = np.random.default_rng([seed, crc(persona.user.user_id), 2])
    reactions = due_reactions(persona.user, signals, np.random.default_rng([seed, crc(persona.user.user_id), 3]))
    memo: dict = {}
    rows: list[tuple[pd.Timestamp, str]] = []
    for ts in pd.date_range(start, end, freq="D"):
        day = ts.date()
        if day.weekday() >= 5:
            if rng.random() < persona.weekend:
                when = ts + pd.Timedelta(seconds=int(uniform(rng, (9.0, 21.0)) * 3600))
                rows.append((when, _weekend_question(persona, day, rng)))
            continue
        texts = [render(h.ask, persona.voice, day, _use_favourite(h, persona, rng))
                 for i, h in enumerate(persona.habits) if _fires(i, h, day, memo, rng)]
        texts += [render(a, persona.voice, day, rng) for a in reactions.get(day, [])]
        texts += [novel(persona, day, rng) for _ in range(rng.binomial(len(texts) + 1, persona.novelty))]
        rows += zip(_times(day, len(texts), persona, rng), texts)
    return rows


# ---------------------------------------------------------------------------------------------
# Surface noise
# ---------------------------------------------------------------------------------------------




def simulate_question_log(users: list[User], orders: pd.DataFrame, start: date, end: date, seed: int = 11,
                          *, typo_rate: float = DEFAULT_TYPO_RATE) -> pd.DataFrame:
    """Simulate what ``users`` ask from ``start`` to ``end`` (inclusive) given the sales in ``orders``.

    Returns a frame with columns ``user_id, asked_at, question`` sorted by ``asked_at``; the same
    arguments always give the same frame. ``orders`` is in the canonical layout.
    """
    if end < start:
        raise ValueError(f"end {end} is before start {start}; pass start <= end")
    frame = canonical_orders(orders)
    scoped = {u.scope.key(): orders_in_scope(frame, u) for u in users}
    vocab = {key: vocabulary(part) for key, part in scoped.items()}
    cache: dict = {}
    rows: list[tuple[str, pd.Timestamp, str]] = []
    for user in users:
        persona = build_persona(user, vocab[user.scope.key()], seed)
        signals = watched(user, scoped[user.scope.key()], cache, start, end, frame["order_date"].max())
        asked = _simulate_user(persona, signals, start, end, seed)
        typed = add_typos([q for _, q in asked], typo_rate, np.random.default_rng([seed, crc(user.user_id), 4]))
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
    frame = canonical_orders(orders)
    example_day = next_working_day(frame["order_date"].max().date() + timedelta(days=1))
    rows = []
    for user in users:
        persona = build_persona(user, vocabulary(orders_in_scope(frame, user)), seed)
        for habit in persona.habits:
            example = render(habit.ask, replace(persona.voice, lowercase=0.0, drop_qmark=0.0), example_day,
                             np.random.default_rng(habit.style_seed))
            rows.append((user.user_id, user.role, habit.cadence, round(habit.probability, 2), example))
    return pd.DataFrame(rows, columns=["user_id", "role", "cadence", "probability", "example"])
