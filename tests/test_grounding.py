"""The grounding guard: numbers in narratives must come from the facts."""

from __future__ import annotations

import pytest

from warehouse.semantic.grounding import check_grounding, extract_numbers, find_figures

FACTS = [123456.7, 100000.0, 23456.7, 23.46, 2026, 0.1846, 1234.5, -3.4]


@pytest.mark.parametrize("text, expected", [
    ("Revenue was 1,234.5 last month", [1234.5]),
    ("$1.2M in sales, 3.4k orders and 2 million visits", [1.2e6, 3400.0, 2e6]),
    ("up 12.5% and down −3.4 % and -7%", [12.5, -3.4, -7.0]),
    ("a +20 % jump", [20.0]),
    ("in October 2026 (2026-10-01)", [2026.0, 2026.0, 10.0, 1.0]),
    ("Q3 was the 3rd best, top 5", [3.0, 3.0, 5.0]),
    ("1. Furniture grew\n2) Chairs fell\n- Tables 7", [7.0]),
    ("€3bn and £4 billion", [3e9, 4e9]),
    ("5 months and 6m dollars", [5.0, 6e6]),
    ("no figures here, two or three words", []),
])
def test_extract_numbers(text, expected):
    assert extract_numbers(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", [
    "Revenue rose 23.5% to $123,456.7 in October 2026.",
    "Revenue rose 23% to $123.5k, from $100,000.",      # shown precision rounding
    "Sales reached $0.12M, up by 23,457.",                # 0.12M is 123,456.7 to two decimals
    "Revenue grew about 23.46 percent.",
    "Margin was 18.5% (0.1846 as a ratio).",              # ratio shown as a percentage
    "Returns fell 3.4%.",                                 # sign carried by the word
    "Returns changed by −3.4 %.",
    "Revenue was 123,500.",                               # within 0.5%
    "Revenue rose in the West, driven by Furniture.",     # no numbers at all
])
def test_grounded_texts_pass(text):
    result = check_grounding(text, FACTS)
    assert result.grounded, result.offending


def test_smollm2_style_invention_is_caught():
    text = "Revenue in the West jumped +20 % to $123,456.7 thanks to strong demand."
    result = check_grounding(text, FACTS)
    assert not result.grounded
    assert result.offending == ["+20 %"]


@pytest.mark.parametrize("text, offending", [
    ("Revenue rose 25% to $123,456.7.", ["25%"]),
    ("Seven regions (7) grew.", ["7"]),                   # small integers need a fact too
    ("It was the 2nd best month of 2025.", ["2", "2025"]),
    ("Revenue was $1.3M.", ["$1.3M"]),
    ("Revenue was 124,500.", ["124,500"]),                # 0.8% off
    ("Revenue fell 2 points.", ["2"]),                    # 2 is not 1.846% rounded or 234.57/100
])
def test_invented_numbers_are_reported(text, offending):
    result = check_grounding(text, FACTS)
    assert not result.grounded
    assert result.offending == offending


def test_plain_number_may_stand_for_a_percentage_only_when_close():
    assert check_grounding("a ratio of 0.2346", [23.46]).grounded
    assert not check_grounding("a ratio of 0.3", [23.46]).grounded


def test_empty_allowed_list_refuses_any_number():
    assert not check_grounding("1 thing", []).grounded
    assert check_grounding("nothing numeric", []).grounded


@pytest.mark.parametrize("text, figures", [
    ("Revenue held steady in 2026.", []),
    ("Revenue was $2,026 in 2026.", ["$2,026"]),
    ("Up 12.5% on 2025, to 2026 units.", ["12.5%"]),   # a bare four-digit year-like count reads as a year
    ("Profit of 1.9k in October 2026", ["1.9k"]),
])
def test_a_bare_year_is_a_date_not_a_figure(text, figures):
    assert [m.raw for m in find_figures(text)] == figures
