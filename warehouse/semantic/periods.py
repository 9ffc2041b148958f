"""Relative periods ("last month", "year to date") resolved against the day a question is asked.

Conventions, relative to the day D the question is asked (data is complete up to D-1):
- yesterday = D-1; last_7_days / last_30_days = the N days ending D-1;
- last_week = the previous ISO week, Monday to Sunday; this_week = Monday of D's week to D-1;
- last_month / last_quarter / last_year = the previous calendar one;
- month_to_date / quarter_to_date / year_to_date = its first day to D-1.
Comparisons: ``prev`` is the preceding calendar period of the same kind for calendar periods
(September for October); for a to-date period it is the same point of the previous period ("this
week vs the same point last week": the same weekdays; month / quarter to date: as many days from
the previous month's / quarter's start, cut at its end; year to date: the same dates a year
earlier); for the other periods the immediately preceding period of equal length. ``yoy`` is the
same period one year earlier (52 weeks earlier for day- and week-based periods, so weekdays line
up).
A to-date period asked on its first day is empty (start > end) and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

PERIODS: tuple[str, ...] = (
    "yesterday", "last_7_days", "last_30_days", "last_week", "this_week", "last_month",
    "month_to_date", "last_quarter", "quarter_to_date", "last_year", "year_to_date",
)
COMPARISONS: tuple[str, ...] = ("none", "prev", "yoy")
_WEEK_BASED = {"yesterday", "last_7_days", "last_30_days", "last_week", "this_week"}


@dataclass(frozen=True)
class DateRange:
    """An inclusive range of days; empty when start > end."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return max(0, (self.end - self.start).days + 1)

    @property
    def is_empty(self) -> bool:
        return self.start > self.end


@dataclass(frozen=True)
class ResolvedPeriod:
    token: str
    current: DateRange
    label: str


def _quarter_start(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def _add_months(d: date, months: int) -> date:
    total = d.year * 12 + (d.month - 1) + months
    return date(total // 12, total % 12 + 1, 1)


def _shift_year(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def resolve(token: str, asked_on: date) -> ResolvedPeriod:
    """The date range ``token`` means when asked on ``asked_on``."""
    y = asked_on - timedelta(days=1)
    if token == "yesterday":
        rng = DateRange(y, y)
    elif token == "last_7_days":
        rng = DateRange(y - timedelta(days=6), y)
    elif token == "last_30_days":
        rng = DateRange(y - timedelta(days=29), y)
    elif token == "last_week":
        monday = asked_on - timedelta(days=asked_on.weekday() + 7)
        rng = DateRange(monday, monday + timedelta(days=6))
    elif token == "this_week":
        rng = DateRange(asked_on - timedelta(days=asked_on.weekday()), y)
    elif token == "last_month":
        first = _add_months(asked_on.replace(day=1), -1)
        rng = DateRange(first, asked_on.replace(day=1) - timedelta(days=1))
    elif token == "month_to_date":
        rng = DateRange(asked_on.replace(day=1), y)
    elif token == "last_quarter":
        this_q = _quarter_start(asked_on)
        rng = DateRange(_add_months(this_q, -3), this_q - timedelta(days=1))
    elif token == "quarter_to_date":
        rng = DateRange(_quarter_start(asked_on), y)
    elif token == "last_year":
        rng = DateRange(date(asked_on.year - 1, 1, 1), date(asked_on.year - 1, 12, 31))
    elif token == "year_to_date":
        rng = DateRange(date(asked_on.year, 1, 1), y)
    else:
        raise ValueError(f"unknown period {token!r}; use one of {', '.join(PERIODS)}")
    return ResolvedPeriod(token, rng, label_for(token, rng))


def comparison_range(period: ResolvedPeriod, compare: str) -> DateRange | None:
    """The range ``period`` is compared with: the previous period (see the module docstring), or
    last year's."""
    cur = period.current
    if compare == "none":
        return None
    if compare == "yoy" or (compare == "prev" and period.token == "year_to_date"):
        if period.token in _WEEK_BASED:
            return DateRange(cur.start - timedelta(weeks=52), cur.end - timedelta(weeks=52))
        end = _shift_year(cur.end, -1)
        if (cur.end + timedelta(days=1)).day == 1:   # a month end stays a month end (29 Feb)
            end = _add_months(end.replace(day=1), 1) - timedelta(days=1)
        return DateRange(_shift_year(cur.start, -1), end)
    if compare != "prev":
        raise ValueError(f"unknown comparison {compare!r}; use one of {', '.join(COMPARISONS)}")
    if period.token == "last_month":
        first = _add_months(cur.start, -1)
        return DateRange(first, cur.start - timedelta(days=1))
    if period.token == "last_quarter":
        return DateRange(_add_months(cur.start, -3), cur.start - timedelta(days=1))
    if period.token == "last_year":
        return DateRange(date(cur.start.year - 1, 1, 1), date(cur.start.year - 1, 12, 31))
    if cur.is_empty:
        return DateRange(cur.start, cur.start - timedelta(days=1))
    if period.token == "this_week":
        return DateRange(cur.start - timedelta(weeks=1), cur.end - timedelta(weeks=1))
    if period.token in ("month_to_date", "quarter_to_date"):
        first = _add_months(cur.start, -1 if period.token == "month_to_date" else -3)
        return DateRange(first, min(first + (cur.end - cur.start), cur.start - timedelta(days=1)))
    length = timedelta(days=cur.days)
    return DateRange(cur.start - length, cur.start - timedelta(days=1))


def _span(rng: DateRange) -> str:
    if rng.is_empty:
        return "no complete day yet"
    if rng.start == rng.end:
        return f"{rng.start:%a} {rng.start.day} {rng.start:%b %Y}"
    if rng.start.year == rng.end.year and rng.start.month == rng.end.month:
        return f"{rng.start.day}–{rng.end.day} {rng.end:%b %Y}"
    if rng.start.year == rng.end.year:
        return f"{rng.start.day} {rng.start:%b}–{rng.end.day} {rng.end:%b %Y}"
    return f"{rng.start.day} {rng.start:%b %Y}–{rng.end.day} {rng.end:%b %Y}"


def label_for(token: str, rng: DateRange) -> str:
    """A human label such as "October 2026", "Q3 2026", "last week (9–15 Nov 2026)"."""
    if token == "last_month":
        return f"{rng.start:%B %Y}"
    if token == "last_quarter":
        return f"Q{(rng.start.month - 1) // 3 + 1} {rng.start.year}"
    if token == "last_year":
        return f"{rng.start.year}"
    names = {"yesterday": "yesterday", "last_7_days": "the last 7 days",
             "last_30_days": "the last 30 days", "last_week": "last week",
             "this_week": "this week so far", "month_to_date": "month to date",
             "quarter_to_date": "quarter to date", "year_to_date": "year to date"}
    return f"{names[token]} ({_span(rng)})"


def range_label(rng: DateRange) -> str:
    """A label for a comparison range, e.g. "September 2026" or "2–8 Nov 2026"."""
    if rng.start.day == 1 and (rng.end + timedelta(days=1)).day == 1:
        months = (rng.end.year - rng.start.year) * 12 + rng.end.month - rng.start.month + 1
        if months == 1:
            return f"{rng.start:%B %Y}"
        if months == 3 and rng.start.month % 3 == 1:
            return f"Q{(rng.start.month - 1) // 3 + 1} {rng.start.year}"
        if months == 12 and rng.start.month == 1:
            return f"{rng.start.year}"
    return _span(rng)


def is_month_start(d: date) -> bool:
    """The first two working days of a month."""
    first = d.replace(day=1)
    working = [first + timedelta(days=i) for i in range(7) if (first + timedelta(days=i)).weekday() < 5]
    return d in working[:2]


def is_quarter_start(d: date) -> bool:
    """The first two working days of a quarter."""
    return d.month in (1, 4, 7, 10) and is_month_start(d)
