"""The period definitions this check assumes, written from business usage (not from the product).

Every period is an inclusive [start, end] range of order dates, resolved against the morning D on
which the question is asked; data exists up to D-1 at most.

- yesterday = D-1; last 7 / 30 days = D-7 .. D-1 / D-30 .. D-1.
- last week = the previous Monday-Sunday week; this week (WTD) = Monday of D's week .. D-1.
- last month / quarter / year = the previous calendar one; MTD / QTD / YTD = its first day .. D-1.
- a named month ("in March") = that calendar month of D's year, or of the year before when that
  month has not ended yet.
- "vs previous": the preceding calendar unit for weeks, months, quarters and years; for day
  windows (yesterday, last N days) the N days just before. A to-date period is only ever asked
  "vs same point last week/month/quarter" here, so it is the same day span of the previous unit
  (WTD: the same weekdays of last week; MTD 1-10 Mar: 1-10 Feb), never the days just before.
- "vs last year": the same dates one year earlier; for a day, WTD or a last-N-days window also
  the same weekdays 52 weeks earlier (retail usage); for ISO weeks the same ISO week of the
  previous year (in 2022 that is exactly 52 weeks earlier). Both readings are accepted.
"""

from __future__ import annotations

from datetime import date, timedelta

Window = tuple[date, date]


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _add_months(d: date, months: int) -> date:
    """First day of the month `months` after d's month."""
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month_end(d: date) -> date:
    return _add_months(d, 1) - timedelta(days=1)


def _quarter_start(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def _year_ago(d: date) -> date:
    """The same calendar date a year earlier (29 Feb becomes 28 Feb)."""
    try:
        return d.replace(year=d.year - 1)
    except ValueError:
        return d.replace(year=d.year - 1, day=28)


def resolve(kind: str, asked: date, month: int = 0) -> Window:
    """The [start, end] window of period `kind` for a question asked on the morning of `asked`."""
    y = asked - timedelta(days=1)
    if kind == "yesterday":
        return y, y
    if kind == "last_7_days":
        return asked - timedelta(days=7), y
    if kind == "last_30_days":
        return asked - timedelta(days=30), y
    monday = asked - timedelta(days=asked.weekday())
    if kind == "last_week":
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if kind == "week_to_date":
        return monday, y
    if kind == "last_month":
        start = _add_months(asked, -1)
        return start, _month_end(start)
    if kind == "month_to_date":
        return _month_start(asked), y
    if kind == "last_quarter":
        start = _add_months(_quarter_start(asked), -3)
        return start, _add_months(start, 3) - timedelta(days=1)
    if kind == "quarter_to_date":
        return _quarter_start(asked), y
    if kind == "year_to_date":
        return date(asked.year, 1, 1), y
    if kind == "last_year":
        return date(asked.year - 1, 1, 1), date(asked.year - 1, 12, 31)
    if kind == "named_month":
        year = asked.year if _month_end(date(asked.year, month, 1)) < asked else asked.year - 1
        start = date(year, month, 1)
        return start, _month_end(start)
    raise ValueError(f"unknown period kind {kind!r}")


def comparison_windows(kind: str, window: Window, compare: str) -> list[Window]:
    """The accepted comparison windows (first = this check's primary reading)."""
    start, end = window
    days = (end - start).days + 1
    if compare == "yoy":
        primary = (_year_ago(start), _year_ago(end))
        if kind in ("yesterday", "last_week", "week_to_date", "last_7_days", "last_30_days"):
            weeks52 = (start - timedelta(days=364), end - timedelta(days=364))
            return [primary, weeks52] if weeks52 != primary else [primary]
        return [primary]
    if compare != "prev":
        return []
    preceding = (start - timedelta(days=days), start - timedelta(days=1))
    if kind == "week_to_date":
        return [(start - timedelta(days=7), end - timedelta(days=7))]
    if kind in ("yesterday", "last_7_days", "last_30_days", "last_week"):
        return [preceding]
    if kind in ("last_month", "named_month"):
        s = _add_months(start, -1)
        return [(s, _month_end(s))]
    if kind == "last_quarter":
        s = _add_months(start, -3)
        return [(s, _add_months(s, 3) - timedelta(days=1))]
    if kind == "last_year":
        return [(date(start.year - 1, 1, 1), date(start.year - 1, 12, 31))]
    unit = {"month_to_date": 1, "quarter_to_date": 3}.get(kind)
    if unit:
        s = _add_months(start, -unit)
        return [(s, min(s + (end - start), _add_months(s, unit) - timedelta(days=1)))]
    if kind == "year_to_date":
        return [(_year_ago(start), _year_ago(end))]
    return [preceding]


def last_complete_weeks(asked: date, n: int) -> list[Window]:
    """The n Monday-Sunday weeks before the week of `asked`, oldest first."""
    monday = asked - timedelta(days=asked.weekday())
    return [(monday - timedelta(days=7 * k), monday - timedelta(days=7 * k - 6))
            for k in range(n, 0, -1)]


def last_complete_months(asked: date, n: int) -> list[Window]:
    """The n calendar months before the month of `asked`, oldest first."""
    out = []
    for k in range(n, 0, -1):
        s = _add_months(asked, -k)
        out.append((s, _month_end(s)))
    return out
