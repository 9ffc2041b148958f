"""Generate users.csv, log.csv and truth.csv for an independent check of Offpeak's answers.

Written from scratch over the real Superstore orders; it shares no code and no word list with the
product or its simulator. Everything is determined by the seed.

    .venv/bin/python -m tests.independent.generate_log --seed 7 --out /tmp/independent
"""

from __future__ import annotations

import argparse
import csv
import random
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from tests.independent.calendar_rules import resolve
from tests.independent.personas import PERSONAS, Persona, Vocabulary, vocabulary_for
from tests.independent.spec import TRUTH_COLUMNS, Spec, truth_row
from tests.independent.vocabulary import STATE_ABBREVIATIONS
from tests.independent.wording import (breakdown_question, compare_question, noise,
                                       scalar_question, share_question, topn_question,
                                       trend_question, unanswerable_question)

ORDERS = Path(__file__).resolve().parents[3] / "shared/data/superstore_sales/orders.csv.gz"
SCALAR_METRICS = {"revenue": 30, "profit": 14, "margin_pct": 8, "orders": 8, "aov": 6, "units": 6,
                  "units_per_order|aov": 2, "units_per_order": 2, "customers": 5,
                  "new_customers|new_customers_global": 3,
                  "discount_avg|discount_weighted|discount_sales_weighted": 4,
                  "return_rate_orders|return_rate_sales|return_rate_lines": 3}
RANK_METRICS = {"revenue": 10, "profit": 6, "units": 2, "orders": 2, "margin_pct": 1}
PERIODS = {"yesterday": 8, "last_week": 12, "week_to_date": 4, "last_month": 12,
           "month_to_date": 6, "last_quarter": 4, "quarter_to_date": 4, "year_to_date": 7,
           "last_7_days": 4, "last_30_days": 4, "last_year": 2, "named_month": 5}
ONE_OFF_RATE = 0.25  # chance of a one-off question per user per working day
FAMILIES = {"scalar": 36, "compare": 26, "topn": 18, "breakdown": 8, "share": 5, "trend": 3,
            "unanswerable": 9}


def _pick(weights: dict[str, int], rng: random.Random) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _valid(kind: str, asked: date) -> bool:
    """No empty to-date periods (WTD on a Monday, MTD on the 1st...)."""
    start, end = resolve(kind, asked, _prev_month(asked))
    return start <= end


def _prev_month(asked: date) -> int:
    return (asked.month - 2) % 12 + 1


@dataclass(frozen=True)
class Draft:
    """A spec plus the filters the question itself names (the rest is the asker's scope)."""

    spec: Spec
    named: dict[str, str]


def draft(persona: Persona, vocab: Vocabulary, family: str, period: str,
          rng: random.Random) -> Draft:
    """A random question of `family` for this persona, in their scope."""
    named: dict[str, str] = {}
    note = ""
    roll = rng.random()
    if family in ("scalar", "compare", "topn", "trend") and roll < 0.35 and vocab.filters:
        named = dict([rng.choice(vocab.filters)])
    elif family in ("scalar", "compare") and roll > 0.97 and vocab.outside:
        named, note = dict([rng.choice(vocab.outside)]), "outside asker's scope"
    filters = {**persona.scope_filters(), **named}
    month = 1 if period == "named_month" else 0  # pinned to the month just ended by _for_day
    if family == "scalar":
        spec = Spec("scalar", _pick(SCALAR_METRICS, rng), period, month, filters, note=note)
    elif family == "compare":
        metric = _pick({k: v for k, v in SCALAR_METRICS.items() if "|" not in k}, rng)
        compare = "yoy" if period in ("year_to_date",) or rng.random() < 0.5 else "prev"
        spec = Spec("compare", metric, period, month, filters, compare=compare, note=note)
    elif family == "topn":
        dimension = rng.choice(vocab.top_dimensions)
        named = {k: v for k, v in named.items() if k != dimension}
        filters = {**persona.scope_filters(), **named}
        n = 1 if dimension == "Category" else rng.choice([1, 3, 5, 5, 5, 10])
        order = "bottom" if rng.random() < 0.2 else "top"
        metric = _pick(RANK_METRICS, rng)
        implicit = order == "top" and n > 1 and metric == "revenue" and rng.random() < 0.15
        spec = Spec("topn", metric, period, month, filters, dimension=dimension, n=n, order=order,
                    note="implicit metric: revenue" if implicit else "")
    elif family == "breakdown":
        spec = Spec("breakdown", rng.choice(["revenue", "revenue", "profit", "orders", "units",
                                             "margin_pct"]), period, month, filters,
                    dimension=rng.choice(vocab.breakdown_dimensions))
    elif family == "share":
        column, value = rng.choice(vocab.share_parts)
        whole = {k: v for k, v in filters.items() if k != column}
        if column == "Sub-Category" and "Category" not in whole and rng.random() < 0.6:
            named = {"Category": vocab.category_of[value]}
            whole = {**whole, **named}
        spec = Spec("share", rng.choice(["revenue", "revenue", "profit", "units"]), period, month,
                    whole, share_part={column: value})
    elif family == "trend":
        grain = rng.choice(["week", "month"])
        count = rng.choice([4, 6, 8, 12]) if grain == "week" else rng.choice([3, 6, 12])
        spec = Spec("trend", rng.choice(["revenue", "revenue", "profit", "orders"]), "", 0,
                    filters, grain=grain, count=count)
    else:
        spec = Spec("unanswerable", filters=filters)
    return Draft(spec, named)


def question_text(d: Draft, asked: date, rng: random.Random) -> str:
    """The wording of a draft (before noise); every filter it names is in the words."""
    text = _wording(d, asked, rng)
    for column, value in {**d.named, **d.spec.share_part}.items():
        words = (value.lower(), STATE_ABBREVIATIONS.get(value, value).lower())
        if not any(w in text.lower() for w in words):
            raise AssertionError(f"generator bug: {value!r} missing from {text!r}")
    return text


def _wording(d: Draft, asked: date, rng: random.Random) -> str:
    shape = d.spec.shape
    if shape == "scalar":
        return scalar_question(d.spec, d.named, asked, rng)
    if shape == "compare":
        return compare_question(d.spec, d.named, asked, rng)
    if shape == "topn":
        return topn_question(d.spec, d.named, asked, rng)
    if shape == "breakdown":
        return breakdown_question(d.spec, d.named, asked, rng)
    if shape == "share":
        named = {k: v for k, v in d.named.items() if k not in d.spec.share_part}
        return share_question(d.spec, named, asked, rng)
    if shape == "trend":
        return trend_question(d.spec, d.named, rng)
    return unanswerable_question(d.named, asked, rng)


@dataclass(frozen=True)
class Habit:
    """A question a persona asks again and again: same meaning, mostly the same words."""

    habit_id: str
    draft: Draft
    cadence: str  # daily | weekly | monthly | quarterly
    weekday: int
    hour: float
    style_seed: int

    def due(self, day: date) -> bool:
        """Whether the habit falls on `day` (before attendance)."""
        working = day.weekday() < 5
        if self.cadence == "daily":
            return working
        if self.cadence == "weekly":
            return day.weekday() == self.weekday
        first_working = working and all((day - timedelta(days=k)).weekday() >= 5 or
                                        (day - timedelta(days=k)).month != day.month
                                        for k in range(1, day.day))
        if self.cadence == "monthly":
            return first_working if self.weekday == 0 else (working and day.day == 15)
        return first_working and day.month in (1, 4, 7, 10)


_CADENCES = [("daily", 0, "yesterday"), ("weekly", 0, "last_week"), ("weekly", 0, "last_7_days"),
             ("weekly", 3, "week_to_date"), ("weekly", 0, "year_to_date"),
             ("monthly", 0, "last_month"), ("monthly", 0, "named_month"),
             ("monthly", 15, "month_to_date"), ("monthly", 15, "quarter_to_date"),
             ("quarterly", 0, "last_quarter"), ("weekly", 4, "last_30_days")]


def habits_for(persona: Persona, vocab: Vocabulary, rng: random.Random) -> list[Habit]:
    """3 to 5 recurring questions; at most one daily one."""
    out, daily = [], False
    for k in range(rng.randint(3, 5)):
        cadence, weekday, period = rng.choice(_CADENCES)
        if cadence == "daily" and daily:
            cadence, weekday, period = "weekly", 0, "last_week"
        daily = daily or cadence == "daily"
        family = _pick({k2: v for k2, v in FAMILIES.items() if k2 != "unanswerable"}, rng)
        d = draft(persona, vocab, family, period, rng)
        out.append(Habit(f"{persona.user_id}-h{k + 1}", d, cadence, weekday,
                         rng.uniform(7.0, 10.0), rng.randrange(10**9)))
    return out


def _stamp(day: date, hour: float, rng: random.Random, used: set[str]) -> str:
    while True:
        moment = datetime(day.year, day.month, day.day) + timedelta(
            hours=min(max(hour + rng.gauss(0, 0.4), 6.0), 19.5), seconds=rng.randrange(60))
        text = moment.strftime("%Y-%m-%d %H:%M:%S")
        if text not in used:
            used.add(text)
            return text


def _for_day(d: Draft, day: date) -> Draft:
    """Pin a 'named month' draft to the month just ended."""
    if d.spec.period != "named_month":
        return d
    return replace(d, spec=replace(d.spec, month=_prev_month(day)))


def generate(orders: pd.DataFrame, *, seed: int, start: date, end: date) -> tuple[
        list[Persona], list[dict[str, str]]]:
    """The personas and one truth row per logged question, sorted by time."""
    rows: list[tuple[str, str, str, str, Spec]] = []
    for index, persona in enumerate(PERSONAS):
        rng = random.Random(seed * 1000 + index)  # per user: a later end changes no earlier day
        vocab = vocabulary_for(persona, orders)
        habits = habits_for(persona, vocab, rng)
        used: set[str] = set()
        day = start
        while day <= end:
            for h in habits:
                period = h.draft.spec.period or "yesterday"
                if h.due(day) and rng.random() < 0.88 and _valid(period, day):
                    d = _for_day(h.draft, day)
                    style = random.Random(h.style_seed) if rng.random() < 0.8 else rng
                    text = noise(question_text(d, day, style), rng, 0.08)
                    rows.append((_stamp(day, h.hour, rng, used), persona.user_id, text, h.habit_id,
                                 d.spec))
            if day.weekday() < 5 and rng.random() < ONE_OFF_RATE:
                family, period = _pick(FAMILIES, rng), _pick(PERIODS, rng)
                if _valid(period, day):
                    d = _for_day(draft(persona, vocab, family, period, rng), day)
                    text = noise(question_text(d, day, rng), rng, 0.15)
                    rows.append((_stamp(day, rng.uniform(8, 18), rng, used), persona.user_id,
                                 text, "one-off", d.spec))
            day += timedelta(days=1)
    rows.sort(key=lambda r: (r[0], r[1]))
    truth = [truth_row(qid=f"q{i + 1:05d}", user_id=u, asked_at=t, question=q, habit=h, spec=s)
             for i, (t, u, q, h, s) in enumerate(rows)]
    return PERSONAS, truth


def write(out: Path, personas: list[Persona], truth: list[dict[str, str]]) -> None:
    """users.csv and log.csv (the product's formats) and truth.csv (this check's answers)."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "users.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "name", "role", "scope"])
        w.writerows([p.user_id, f"{p.name} ({p.title})", p.role, p.scope] for p in personas)
    with (out / "log.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "asked_at", "question"])
        w.writerows([r["user_id"], r["asked_at"], r["question"]] for r in truth)
    with (out / "truth.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=TRUTH_COLUMNS)
        w.writeheader()
        w.writerows(truth)


def load_orders(path: Path = ORDERS) -> pd.DataFrame:
    """The real Superstore order lines with parsed dates."""
    return pd.read_csv(path, parse_dates=["Order Date", "Ship Date"],
                       dtype={"Postal Code": str})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=Path, default=ORDERS)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2021, 10, 1))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2022, 12, 31))
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    personas, truth = generate(load_orders(args.orders), seed=args.seed, start=args.start,
                               end=args.end)
    write(args.out, personas, truth)
    print(f"wrote {len(personas)} users and {len(truth)} questions to {args.out}")


if __name__ == "__main__":
    main()
