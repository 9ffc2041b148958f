"""The words of a period: relative phrases ("last month", "wtd") and named dates ("in February",
"Q3 2022", "on Sunday"), each resolved only to a period token that means exactly those dates as
seen from the day asked; anything else is unknown, never the nearest period.
"""

from __future__ import annotations

import re
from datetime import date

from warehouse.language.lexicon import MONTH_ABBREVIATIONS, MONTHS, WEEKDAY_ABBREVIATIONS, WEEKDAYS

PERIOD_PATTERNS: list[tuple[str, str]] = [
    (r"\b(yesterday|yday|yest|ystd|last day|previous day)\b", "yesterday"),
    (r"\b(last|past|previous|prior|trailing) (7|seven) days\b|\bl7d\b", "last_7_days"),
    (r"\b(last|past|previous|prior|trailing) (30|thirty) days\b|\bl30d\b", "last_30_days"),
    (r"\b(this (week|wk)|week to date|wtd|so far this (week|wk)|current week|the week so far)\b", "this_week"),
    (r"\b(last|lst|previous|prev|prior|past) (full |complete |whole )?(week|wk)\b|\bweek before\b|\blw\b|"
     r"\bweek (that )?(just )?(ended|gone|finished|closed)\b", "last_week"),
    (r"\b(this (month|mo|mth|mnth)|month to date|mtd|so far this (month|mo|mth|mnth)|current month|"
     r"the month so far)\b", "month_to_date"),
    (r"\b(last|lst|previous|prev|prior|past) (full |complete |whole |calendar )?(month|mo|mth|mnth)\b|\blm\b|"
     r"\bmonth (that )?(just )?(ended|gone|finished|closed)\b", "last_month"),
    (r"\b(this (quarter|qtr)|quarter to date|qtd|so far this (quarter|qtr)|current (quarter|qtr))\b", "quarter_to_date"),
    (r"\b(last|lst|previous|prev|prior|past) (full |complete |whole |calendar )?(quarter|qtr)\b|"
     r"\bquarter (that )?(just )?(ended|gone|finished|closed)\b", "last_quarter"),
    (r"\b(this (year|yr)|year to date|ytd|so far this (year|yr)|current (year|yr))\b", "year_to_date"),
    (r"\b(last|lst|previous|prev|prior|past) (full |complete |whole |calendar )?(year|yr)\b", "last_year"),
]
# Periods the catalogue has no token for: a question naming one is never mapped to a neighbour.
UNSUPPORTED_PERIOD = (r"\b20\d\d \d{1,2} \d{1,2}\b|\b\d{1,2} \d{1,2} 20\d\d\b|"   # a date written in digits
                      r"\b((week|month|quarter|year|day) before last|(two|three|four|2|3|4) (days|weeks|months|"
                       r"quarters|years) ago|next (day|week|month|quarter|year)|tomorrow|today|this morning|"
                       r"(fiscal|financial) (year|quarter)|fy ?\d{2,4}|h[12]|half year|first half|second half)\b")


def find_period(text: str, asked_on: date | None, compare: str = "none") -> tuple[str | None, str]:
    """The period token and the text with the comparison phrase removed.

    The period mentioned first in the text wins. Named days, months, quarters and years
    ("on Sunday", "in Feb", "Q3 2022", "in 2022 so far") resolve only against the day asked, and
    only to a token that means exactly those dates (Sunday asked on Monday is yesterday); any
    other named date, or two named dates that disagree, leave the period unknown (never a guess).
    """
    if re.search(UNSUPPORTED_PERIOD, text):
        return None, text
    found = sorted((m.start(), token) for pattern, token in PERIOD_PATTERNS for m in [re.search(pattern, text)] if m)
    period = found[0][1] if found else None
    if len({token for _, token in found}) > 1 and compare != "prev":
        return None, text     # "last month and this month": two periods, no comparison between them
    named = named_period(text, asked_on, compare)
    if named is None:
        return period, text
    if named == "unknown" or (period is not None and period != named):
        return None, text
    return named, text


def named_period(text: str, asked_on: date | None, compare: str = "none") -> str | None:
    """The token a named day/month/quarter/year stands for; None when none is named, "unknown"
    when one is named but it is not exactly a supported period (or the day asked is not known).
    With a "vs previous" comparison, the month (quarter) before last month (quarter) may be named
    as what it is compared with ("October vs September")."""
    tokens: set[str] = set()
    words = text.split()
    weekdays = [i for i, w in enumerate(words) if w in WEEKDAYS or w in WEEKDAY_ABBREVIATIONS]
    for i in weekdays:
        day = WEEKDAYS.index(words[i]) if words[i] in WEEKDAYS else WEEKDAY_ABBREVIATIONS[words[i]]
        if asked_on is None:
            return "unknown"
        if i > 0 and words[i - 1] == "since" and day == 0 and asked_on.weekday() > 0:
            tokens.add("this_week")
        elif day == (asked_on.weekday() - 1) % 7 and (i == 0 or words[i - 1] not in ("since", "next")):
            tokens.add("yesterday")
        else:
            return "unknown"
    month_names = "|".join(MONTHS + tuple(MONTH_ABBREVIATIONS))
    for m in re.finditer(rf"(?:\b(in|for|during|of|from)\s+)?\b({month_names})\b(?:\s+(20\d\d))?", text):
        name, year = m.group(2), m.group(3)
        if name == "may" and not (m.group(1) or year) and (
                re.search(r"\bmay\s+(i|we|you|he|she|they|it|be|have|not|need|want|see|get|help|ask|also|still|"
                          r"well|come|go|show|look|drop|fall|rise|grow|change|change)\b", text)
                or re.search(r"\b(i|we|you|he|she|they|it|this|that|which|who|what|there)\s+may\b", text)):
            continue          # "may" the verb, not the month
        if name == "mar" and not (m.group(1) or year) and re.search(r"\bmar\b\s+(the|our|my)\b", text):
            continue
        month = MONTHS.index(name) + 1 if name in MONTHS else MONTH_ABBREVIATIONS[name]
        if asked_on is None:
            return "unknown"
        if re.search(rf"\b\d{{1,2}}(st|nd|rd|th)?\s+(of\s+)?{name}\b|\b{name}\s+\d{{1,2}}(st|nd|rd|th)?\b(?!\d)", text) \
                or re.search(r"\b(between|through|thru|until|till|since|starting|week of|weekend|end of|start of|"
                             r"beginning of|middle of|mid|first week|last week of|first half|second half)\b", text):
            return "unknown"      # a day or a span inside the month, not the month
        last = date(asked_on.year - (asked_on.month == 1), 12 if asked_on.month == 1 else asked_on.month - 1, 1)
        before = date(last.year - (last.month == 1), 12 if last.month == 1 else last.month - 1, 1)
        if month == last.month and (year is None or int(year) == last.year):
            tokens.add("last_month")
        elif compare == "prev" and month == before.month and (year is None or int(year) == before.year) \
                and len(re.findall(rf"\b({month_names})\b", text)) > 1:
            continue          # the comparison's other side
        elif month == asked_on.month and (year is None or int(year) == asked_on.year):
            tokens.add("month_to_date")
        else:
            return "unknown"
    quarters = list(re.finditer(r"\bq([1-4])\b(?:\s+(20\d\d))?", text))
    for m in quarters:
        if asked_on is None:
            return "unknown"
        q, year = int(m.group(1)), m.group(2)
        current = (asked_on.month - 1) // 3 + 1
        last_q, last_year = (4, asked_on.year - 1) if current == 1 else (current - 1, asked_on.year)
        before_q, before_year = (4, last_year - 1) if last_q == 1 else (last_q - 1, last_year)
        if q == last_q and (year is None or int(year) == last_year):
            tokens.add("last_quarter")
        elif compare == "prev" and q == before_q and (year is None or int(year) == before_year) and len(quarters) > 1:
            continue
        elif q == current and (year is None or int(year) == asked_on.year):
            tokens.add("quarter_to_date")
        else:
            return "unknown"
    dated = re.sub(rf"\b({month_names}|q[1-4])\s+20\d\d\b", " ", text)
    for m in re.finditer(r"\b(20\d\d)\b", dated):
        if asked_on is None:
            return "unknown"
        year = int(m.group(1))
        if year == asked_on.year:
            tokens.add("year_to_date")
        elif year == asked_on.year - 1 and not re.search(r"\b(so far|to date|ytd)\b", text):
            tokens.add("last_year")
        else:
            return "unknown"
    if len(tokens) > 1:
        return "unknown"
    return tokens.pop() if tokens else None
