"""Relative periods against hand-written date ranges, comparison ranges and labels.

Expected values are written out by hand from the conventions in ``warehouse/semantic/periods.py``'s
docstring (data is complete up to the day before the question is asked).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from warehouse.semantic.periods import (
    COMPARISONS, PERIODS, DateRange, comparison_range, label_for, range_label, resolve,
)

MID = date(2022, 11, 22)      # a Tuesday in mid-month
MON = date(2022, 3, 7)        # a Monday
FIRST = date(2022, 11, 1)     # the 1st of a month (a Tuesday; the day before is a Monday)
JAN1 = date(2023, 1, 1)       # New Year's Day (a Sunday)
FEB29 = date(2024, 2, 29)     # leap day (a Thursday)
MAR1_LEAP = date(2024, 3, 1)  # the day after a leap day (a Friday)
QSTART = date(2022, 7, 1)     # a quarter's first day (a Friday)

D = date
EMPTY = None  # marker: the range is empty (start > end)

# day -> token -> (start, end) ; EMPTY means start > end (a to-date period asked on its first day)
EXPECTED: dict[date, dict[str, tuple[date, date] | None]] = {
    MID: {
        "yesterday": (D(2022, 11, 21), D(2022, 11, 21)),
        "last_7_days": (D(2022, 11, 15), D(2022, 11, 21)),
        "last_30_days": (D(2022, 10, 23), D(2022, 11, 21)),
        "last_week": (D(2022, 11, 14), D(2022, 11, 20)),
        "this_week": (D(2022, 11, 21), D(2022, 11, 21)),
        "last_month": (D(2022, 10, 1), D(2022, 10, 31)),
        "month_to_date": (D(2022, 11, 1), D(2022, 11, 21)),
        "last_quarter": (D(2022, 7, 1), D(2022, 9, 30)),
        "quarter_to_date": (D(2022, 10, 1), D(2022, 11, 21)),
        "last_year": (D(2021, 1, 1), D(2021, 12, 31)),
        "year_to_date": (D(2022, 1, 1), D(2022, 11, 21)),
    },
    MON: {
        "yesterday": (D(2022, 3, 6), D(2022, 3, 6)),
        "last_7_days": (D(2022, 2, 28), D(2022, 3, 6)),
        "last_30_days": (D(2022, 2, 5), D(2022, 3, 6)),
        "last_week": (D(2022, 2, 28), D(2022, 3, 6)),
        "this_week": EMPTY,
        "last_month": (D(2022, 2, 1), D(2022, 2, 28)),
        "month_to_date": (D(2022, 3, 1), D(2022, 3, 6)),
        "last_quarter": (D(2021, 10, 1), D(2021, 12, 31)),
        "quarter_to_date": (D(2022, 1, 1), D(2022, 3, 6)),
        "last_year": (D(2021, 1, 1), D(2021, 12, 31)),
        "year_to_date": (D(2022, 1, 1), D(2022, 3, 6)),
    },
    FIRST: {
        "yesterday": (D(2022, 10, 31), D(2022, 10, 31)),
        "last_7_days": (D(2022, 10, 25), D(2022, 10, 31)),
        "last_30_days": (D(2022, 10, 2), D(2022, 10, 31)),
        "last_week": (D(2022, 10, 24), D(2022, 10, 30)),
        "this_week": (D(2022, 10, 31), D(2022, 10, 31)),
        "last_month": (D(2022, 10, 1), D(2022, 10, 31)),
        "month_to_date": EMPTY,
        "last_quarter": (D(2022, 7, 1), D(2022, 9, 30)),
        "quarter_to_date": (D(2022, 10, 1), D(2022, 10, 31)),
        "last_year": (D(2021, 1, 1), D(2021, 12, 31)),
        "year_to_date": (D(2022, 1, 1), D(2022, 10, 31)),
    },
    JAN1: {
        "yesterday": (D(2022, 12, 31), D(2022, 12, 31)),
        "last_7_days": (D(2022, 12, 25), D(2022, 12, 31)),
        "last_30_days": (D(2022, 12, 2), D(2022, 12, 31)),
        "last_week": (D(2022, 12, 19), D(2022, 12, 25)),
        "this_week": (D(2022, 12, 26), D(2022, 12, 31)),
        "last_month": (D(2022, 12, 1), D(2022, 12, 31)),
        "month_to_date": EMPTY,
        "last_quarter": (D(2022, 10, 1), D(2022, 12, 31)),
        "quarter_to_date": EMPTY,
        "last_year": (D(2022, 1, 1), D(2022, 12, 31)),
        "year_to_date": EMPTY,
    },
    FEB29: {
        "yesterday": (D(2024, 2, 28), D(2024, 2, 28)),
        "last_7_days": (D(2024, 2, 22), D(2024, 2, 28)),
        "last_30_days": (D(2024, 1, 30), D(2024, 2, 28)),
        "last_week": (D(2024, 2, 19), D(2024, 2, 25)),
        "this_week": (D(2024, 2, 26), D(2024, 2, 28)),
        "last_month": (D(2024, 1, 1), D(2024, 1, 31)),
        "month_to_date": (D(2024, 2, 1), D(2024, 2, 28)),
        "last_quarter": (D(2023, 10, 1), D(2023, 12, 31)),
        "quarter_to_date": (D(2024, 1, 1), D(2024, 2, 28)),
        "last_year": (D(2023, 1, 1), D(2023, 12, 31)),
        "year_to_date": (D(2024, 1, 1), D(2024, 2, 28)),
    },
    MAR1_LEAP: {
        "yesterday": (D(2024, 2, 29), D(2024, 2, 29)),
        "last_7_days": (D(2024, 2, 23), D(2024, 2, 29)),
        "last_30_days": (D(2024, 1, 31), D(2024, 2, 29)),
        "last_week": (D(2024, 2, 19), D(2024, 2, 25)),
        "this_week": (D(2024, 2, 26), D(2024, 2, 29)),
        "last_month": (D(2024, 2, 1), D(2024, 2, 29)),
        "month_to_date": EMPTY,
        "last_quarter": (D(2023, 10, 1), D(2023, 12, 31)),
        "quarter_to_date": (D(2024, 1, 1), D(2024, 2, 29)),
        "last_year": (D(2023, 1, 1), D(2023, 12, 31)),
        "year_to_date": (D(2024, 1, 1), D(2024, 2, 29)),
    },
    QSTART: {
        "yesterday": (D(2022, 6, 30), D(2022, 6, 30)),
        "last_7_days": (D(2022, 6, 24), D(2022, 6, 30)),
        "last_30_days": (D(2022, 6, 1), D(2022, 6, 30)),
        "last_week": (D(2022, 6, 20), D(2022, 6, 26)),
        "this_week": (D(2022, 6, 27), D(2022, 6, 30)),
        "last_month": (D(2022, 6, 1), D(2022, 6, 30)),
        "month_to_date": EMPTY,
        "last_quarter": (D(2022, 4, 1), D(2022, 6, 30)),
        "quarter_to_date": EMPTY,
        "last_year": (D(2021, 1, 1), D(2021, 12, 31)),
        "year_to_date": (D(2022, 1, 1), D(2022, 6, 30)),
    },
}

CASES = [(day, token, rng) for day, tokens in EXPECTED.items() for token, rng in tokens.items()]


def test_every_token_is_covered_on_every_day():
    for day, tokens in EXPECTED.items():
        assert set(tokens) == set(PERIODS), day
    assert set(COMPARISONS) == {"none", "prev", "yoy"}


@pytest.mark.parametrize("day,token,expected", CASES, ids=[f"{t}@{d}" for d, t, _ in CASES])
def test_resolve(day, token, expected):
    period = resolve(token, day)
    assert period.token == token
    if expected is EMPTY:
        assert period.current.is_empty
        assert period.current.days == 0
        assert "no complete day yet" in period.label
        # an empty to-date period starts on its first day (the day asked) and ends the day before
        assert period.current.start == day and period.current.end == day - timedelta(days=1)
    else:
        assert (period.current.start, period.current.end) == expected
        assert not period.current.is_empty
        assert period.current.days == (expected[1] - expected[0]).days + 1


def test_unknown_tokens_raise():
    with pytest.raises(ValueError):
        resolve("last_decade", MID)
    with pytest.raises(ValueError):
        comparison_range(resolve("last_month", MID), "wow")
    assert comparison_range(resolve("last_month", MID), "none") is None


# ------------------------------------------------------------------------------------------------
# comparison ranges
# ------------------------------------------------------------------------------------------------

COMPARE_CASES = [  # (day, token, compare, (start, end))
    # calendar periods: the preceding calendar period of the same kind
    (MID, "last_month", "prev", (D(2022, 9, 1), D(2022, 9, 30))),
    (MID, "last_quarter", "prev", (D(2022, 4, 1), D(2022, 6, 30))),
    (MID, "last_year", "prev", (D(2020, 1, 1), D(2020, 12, 31))),
    (JAN1, "last_month", "prev", (D(2022, 11, 1), D(2022, 11, 30))),
    (JAN1, "last_quarter", "prev", (D(2022, 7, 1), D(2022, 9, 30))),
    (FEB29, "last_quarter", "prev", (D(2023, 7, 1), D(2023, 9, 30))),
    (MAR1_LEAP, "last_month", "prev", (D(2024, 1, 1), D(2024, 1, 31))),
    (D(2022, 4, 15), "last_month", "prev", (D(2022, 2, 1), D(2022, 2, 28))),   # March vs February
    (D(2022, 1, 10), "last_quarter", "prev", (D(2021, 7, 1), D(2021, 9, 30))),
    # to-date periods: the same point of the previous period
    (MID, "this_week", "prev", (D(2022, 11, 14), D(2022, 11, 14))),
    (MID, "month_to_date", "prev", (D(2022, 10, 1), D(2022, 10, 21))),
    (MID, "quarter_to_date", "prev", (D(2022, 7, 1), D(2022, 8, 21))),
    (MID, "year_to_date", "prev", (D(2021, 1, 1), D(2021, 11, 21))),
    (JAN1, "this_week", "prev", (D(2022, 12, 19), D(2022, 12, 24))),
    (D(2022, 3, 31), "month_to_date", "prev", (D(2022, 2, 1), D(2022, 2, 28))),  # cut at February's end
    (D(2022, 8, 15), "quarter_to_date", "prev", (D(2022, 4, 1), D(2022, 5, 15))),
    (MAR1_LEAP, "year_to_date", "prev", (D(2023, 1, 1), D(2023, 2, 28))),
    (QSTART, "year_to_date", "prev", (D(2021, 1, 1), D(2021, 6, 30))),
    # other periods: the immediately preceding period of equal length
    (MID, "yesterday", "prev", (D(2022, 11, 20), D(2022, 11, 20))),
    (MID, "last_7_days", "prev", (D(2022, 11, 8), D(2022, 11, 14))),
    (MID, "last_30_days", "prev", (D(2022, 9, 23), D(2022, 10, 22))),
    (MID, "last_week", "prev", (D(2022, 11, 7), D(2022, 11, 13))),
    (JAN1, "last_week", "prev", (D(2022, 12, 12), D(2022, 12, 18))),
    (MAR1_LEAP, "last_7_days", "prev", (D(2024, 2, 16), D(2024, 2, 22))),
    # yoy, calendar and to-date periods: the same dates one year earlier (29 Feb -> 28 Feb)
    (MID, "last_month", "yoy", (D(2021, 10, 1), D(2021, 10, 31))),
    (MID, "last_quarter", "yoy", (D(2021, 7, 1), D(2021, 9, 30))),
    (MID, "last_year", "yoy", (D(2020, 1, 1), D(2020, 12, 31))),
    (MID, "month_to_date", "yoy", (D(2021, 11, 1), D(2021, 11, 21))),
    (MID, "quarter_to_date", "yoy", (D(2021, 10, 1), D(2021, 11, 21))),
    (MID, "year_to_date", "yoy", (D(2021, 1, 1), D(2021, 11, 21))),
    (MAR1_LEAP, "last_month", "yoy", (D(2023, 2, 1), D(2023, 2, 28))),
    (MAR1_LEAP, "year_to_date", "yoy", (D(2023, 1, 1), D(2023, 2, 28))),
    (MAR1_LEAP, "quarter_to_date", "yoy", (D(2023, 1, 1), D(2023, 2, 28))),
    (D(2025, 3, 10), "month_to_date", "yoy", (D(2024, 3, 1), D(2024, 3, 9))),
    # yoy, day- and week-based periods: 52 weeks (364 days) earlier, same weekdays
    (MID, "yesterday", "yoy", (D(2021, 11, 22), D(2021, 11, 22))),
    (MID, "last_7_days", "yoy", (D(2021, 11, 16), D(2021, 11, 22))),
    (MID, "last_30_days", "yoy", (D(2021, 10, 24), D(2021, 11, 22))),
    (MID, "last_week", "yoy", (D(2021, 11, 15), D(2021, 11, 21))),
    (MID, "this_week", "yoy", (D(2021, 11, 22), D(2021, 11, 22))),
    (MAR1_LEAP, "yesterday", "yoy", (D(2023, 3, 2), D(2023, 3, 2))),
    (FEB29, "this_week", "yoy", (D(2023, 2, 27), D(2023, 3, 1))),
    (JAN1, "last_week", "yoy", (D(2021, 12, 20), D(2021, 12, 26))),
]


@pytest.mark.parametrize("day,token,compare,expected", COMPARE_CASES,
                         ids=[f"{t}-{c}@{d}" for d, t, c, _ in COMPARE_CASES])
def test_comparison_range(day, token, compare, expected):
    other = comparison_range(resolve(token, day), compare)
    assert (other.start, other.end) == expected


def test_week_based_yoy_keeps_the_weekday():
    for token in ("yesterday", "last_7_days", "last_30_days", "last_week", "this_week"):
        for day in (MID, FEB29, MAR1_LEAP, JAN1, D(2021, 6, 15)):
            period = resolve(token, day)
            if period.current.is_empty:
                continue
            other = comparison_range(period, "yoy")
            assert other.start.weekday() == period.current.start.weekday()
            assert (period.current.start - other.start).days == 364


def test_prev_invariants_over_three_years():
    """Every non-empty period's prev lies before it: a rolling period's ends the day before it
    starts and has its length; a to-date period's starts where the previous period starts, is no
    longer than it and ends inside that period."""
    starts = {"this_week": lambda d: d - timedelta(days=d.weekday()),
              "month_to_date": lambda d: d.replace(day=1),
              "quarter_to_date": lambda d: d.replace(month=3 * ((d.month - 1) // 3) + 1, day=1),
              "year_to_date": lambda d: d.replace(month=1, day=1)}
    day = D(2022, 1, 1)
    while day <= D(2024, 12, 31):
        for token in PERIODS:
            period = resolve(token, day)
            cur = period.current
            assert cur.end <= day - timedelta(days=1)
            if cur.is_empty:
                continue
            other = comparison_range(period, "prev")
            if token in starts:
                before = cur.start - timedelta(days=1)
                assert other.start == starts[token](before) and other.end <= before, (token, day)
                leap = token == "year_to_date" and other.days == cur.days - 1   # 29 Feb -> 28 Feb
                assert other.days <= cur.days and (other.days == cur.days or other.end == before or leap), \
                    (token, day)
            else:
                assert other.end == cur.start - timedelta(days=1), (token, day)
            if token not in ("last_month", "last_quarter", "last_year", *starts):
                assert other.days == cur.days, (token, day)
            yoy = comparison_range(period, "yoy")
            assert yoy.days in (cur.days - 1, cur.days, cur.days + 1), (token, day)  # leap days
        day += timedelta(days=1)




@pytest.mark.parametrize("day,token", [(QSTART, "quarter_to_date"), (MON, "this_week"),
                                       (FIRST, "month_to_date"), (JAN1, "year_to_date")])
def test_prev_of_an_empty_period_is_empty(day, token):
    period = resolve(token, day)
    assert period.current.is_empty
    assert comparison_range(period, "prev").is_empty




@pytest.mark.parametrize("day", [D(2025, 3, 1), D(2021, 3, 15)])
def test_yoy_of_a_february_is_the_whole_february_before(day):
    other = comparison_range(resolve("last_month", day), "yoy")
    year = day.year - 1
    assert (other.start, other.end) == (D(year, 2, 1), D(year, 2, 29))
    assert range_label(other) == f"February {year}"


@pytest.mark.parametrize("day,token", [(QSTART, "quarter_to_date"), (MON, "this_week"),
                                       (FIRST, "month_to_date"), (JAN1, "year_to_date")])
def test_yoy_of_an_empty_period_is_empty(day, token):
    assert comparison_range(resolve(token, day), "yoy").is_empty


# ------------------------------------------------------------------------------------------------
# labels
# ------------------------------------------------------------------------------------------------

LABEL_CASES = [
    (MID, "last_month", "October 2022"),
    (MID, "last_quarter", "Q3 2022"),
    (MID, "last_year", "2021"),
    (MID, "yesterday", "yesterday (Mon 21 Nov 2022)"),
    (MID, "last_7_days", "the last 7 days (15–21 Nov 2022)"),
    (MID, "last_30_days", "the last 30 days (23 Oct–21 Nov 2022)"),
    (MID, "last_week", "last week (14–20 Nov 2022)"),
    (MID, "this_week", "this week so far (Mon 21 Nov 2022)"),
    (MID, "month_to_date", "month to date (1–21 Nov 2022)"),
    (MID, "quarter_to_date", "quarter to date (1 Oct–21 Nov 2022)"),
    (MID, "year_to_date", "year to date (1 Jan–21 Nov 2022)"),
    (MON, "this_week", "this week so far (no complete day yet)"),
    (MON, "last_week", "last week (28 Feb–6 Mar 2022)"),
    (JAN1, "last_week", "last week (19–25 Dec 2022)"),
    (JAN1, "this_week", "this week so far (26–31 Dec 2022)"),
    (JAN1, "year_to_date", "year to date (no complete day yet)"),
    (JAN1, "last_quarter", "Q4 2022"),
    (JAN1, "last_year", "2022"),
    (D(2023, 1, 3), "last_7_days", "the last 7 days (27 Dec 2022–2 Jan 2023)"),
    (MAR1_LEAP, "last_month", "February 2024"),
    (MAR1_LEAP, "yesterday", "yesterday (Thu 29 Feb 2024)"),
    (QSTART, "last_quarter", "Q2 2022"),
    (QSTART, "quarter_to_date", "quarter to date (no complete day yet)"),
]


@pytest.mark.parametrize("day,token,label", LABEL_CASES, ids=[f"{t}@{d}" for d, t, _ in LABEL_CASES])
def test_label(day, token, label):
    period = resolve(token, day)
    assert period.label == label
    assert label_for(token, period.current) == label


RANGE_LABEL_CASES = [
    (DateRange(D(2022, 9, 1), D(2022, 9, 30)), "September 2022"),
    (DateRange(D(2024, 2, 1), D(2024, 2, 29)), "February 2024"),
    (DateRange(D(2022, 4, 1), D(2022, 6, 30)), "Q2 2022"),
    (DateRange(D(2020, 1, 1), D(2020, 12, 31)), "2020"),
    (DateRange(D(2022, 11, 7), D(2022, 11, 13)), "7–13 Nov 2022"),
    (DateRange(D(2022, 11, 20), D(2022, 11, 20)), "Sun 20 Nov 2022"),
    (DateRange(D(2021, 2, 10), D(2021, 12, 31)), "10 Feb–31 Dec 2021"),
    (DateRange(D(2022, 2, 1), D(2022, 3, 31)), "1 Feb–31 Mar 2022"),        # two whole months
    (DateRange(D(2022, 2, 1), D(2022, 4, 30)), "1 Feb–30 Apr 2022"),        # 3 months, not a quarter
    (DateRange(D(2021, 12, 1), D(2022, 1, 31)), "1 Dec 2021–31 Jan 2022"),
    (DateRange(D(2022, 7, 1), D(2022, 6, 30)), "no complete day yet"),
]


@pytest.mark.parametrize("rng,label", RANGE_LABEL_CASES, ids=[lbl for _, lbl in RANGE_LABEL_CASES])
def test_range_label(rng, label):
    assert range_label(rng) == label


def test_comparison_labels_read_naturally():
    assert range_label(comparison_range(resolve("last_month", MID), "prev")) == "September 2022"
    assert range_label(comparison_range(resolve("last_month", MID), "yoy")) == "October 2021"
    assert range_label(comparison_range(resolve("last_quarter", MID), "yoy")) == "Q3 2021"
    assert range_label(comparison_range(resolve("last_week", MID), "prev")) == "7–13 Nov 2022"
    assert range_label(comparison_range(resolve("yesterday", MID), "yoy")) == "Mon 22 Nov 2021"


def test_date_range_properties():
    assert DateRange(D(2024, 2, 1), D(2024, 2, 29)).days == 29
    assert DateRange(D(2024, 2, 1), D(2024, 2, 1)).days == 1
    empty = DateRange(D(2024, 2, 2), D(2024, 2, 1))
    assert empty.is_empty and empty.days == 0
