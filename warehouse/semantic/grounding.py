"""The grounding guard: every number in a generated narrative must come from the answer's facts.

Rules (decided here, tested in tests/test_grounding.py):

* Every run of digits counts, however it is dressed: ``1,234.5``, ``$1.2M``, ``3.4k``,
  ``2 million``, ``12.5%``, ``−3.4 %`` (Unicode minus), ``Q3``, ``3rd``, ``top 5``, years. Small
  integers and ordinals get no free pass: "the 7 regions" needs a 7 (or 6.5–7.5) in the facts.
* Not counted: list markers at the start of a line (``1.``, ``2)``, ``-``, ``•``) and numbers
  written as words ("two", "twenty percent") — the guard reads digits only.
* Signs are ignored when comparing (the words "fell"/"rose" carry the direction), so ``-3.4%``
  and "fell 3.4%" both match a delta of -3.4.
* A text number matches an allowed number when the allowed one, rounded to the precision the
  text shows (``1.2M`` is ±0.05M, ``1,235`` is ±0.5), equals it, or — for amounts shown with
  decimals, a scale, a % or thousands separators (``123,500``) — when they are within 0.5% of
  each other. Bare integers (counts, years, ordinals) get no relative slack: 2025 is not 2026,
  and "+20 %" is not 23.46%.
* A percentage may stand for a ratio (``23%`` for 0.2346, same rounding rule), and a plain
  number for a percentage (``0.235`` for 23.46, within 0.5% only: rounding a percentage down to
  ``2`` would make almost any small integer pass).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

RELATIVE_TOLERANCE = 0.005

_SCALES = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9,
           "billion": 1e9, "trillion": 1e12}
_NUMBER = re.compile(r"""
    (?P<sign>[+\-\u2212])?
    (?P<currency>[$€£])?
    (?P<digits>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)
    (?:
        (?P<percent>\s?(?:%|per\s?cent\b|percentage\s+points?\b|pp\b))
      | (?P<scale>(?:k|K|m|M|mn|bn|B)\b|\s(?:thousand|million|billion|trillion)\b)
    )?
""", re.VERBOSE)
_LIST_MARKER = re.compile(r"^[ \t]*(?:\d{1,2}[.)]|[-*•])[ \t]+", re.MULTILINE)


@dataclass(frozen=True)
class NumberMention:
    """One number as written in a text: its value, the precision shown and whether it is a %."""

    raw: str
    value: float
    decimals: int
    scale: float
    percent: bool


@dataclass(frozen=True)
class GroundingResult:
    """Whether every number in a text is grounded, and the ones that are not, as written."""

    grounded: bool
    offending: list[str] = field(default_factory=list)


def find_numbers(text: str) -> list[NumberMention]:
    """Every number written in ``text`` with digits, list markers excluded."""
    text = _LIST_MARKER.sub(lambda m: " " * len(m.group(0)), text)
    mentions = []
    for m in _NUMBER.finditer(text):
        digits = m.group("digits").replace(",", "")
        scale_word = (m.group("scale") or "").strip().lower()
        scale = _SCALES.get(scale_word, 1.0)
        sign = m.group("sign")
        glued = sign and m.start() > 0 and (text[m.start() - 1].isalnum())  # "2026-10": a separator
        negative = sign in ("-", "\u2212") and not glued
        value = float(digits) * scale * (-1 if negative else 1)
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        raw = m.group(0)[1:] if glued else m.group(0)
        mentions.append(NumberMention(raw.strip(), value, decimals, scale, bool(m.group("percent"))))
    return mentions


def is_year(mention: NumberMention) -> bool:
    """True for a bare calendar year (``2026``): a date, not a figure of the answer."""
    return (mention.raw.isdigit() and len(mention.raw) == 4 and 1900 <= mention.value <= 2100
            and mention.scale == 1.0)


def find_figures(text: str) -> list[NumberMention]:
    """The numbers of ``text`` that state a figure: every number but bare calendar years."""
    return [m for m in find_numbers(text) if not is_year(m)]


def extract_numbers(text: str) -> list[float]:
    """The numbers written in ``text`` as floats: ``"$1.2M, -3.4 %"`` → ``[1200000.0, -3.4]``."""
    return [m.value for m in find_numbers(text)]


def _matches(mention: NumberMention, allowed: float) -> bool:
    shown, value, allowed = abs(mention.value) / mention.scale, abs(mention.value), abs(allowed)
    half_step = 0.5 * 10 ** -mention.decimals + 1e-9
    rounded = [allowed, allowed * 100] if mention.percent else [allowed]  # 23.5% for 0.235
    if any(abs(c / mention.scale - shown) <= half_step for c in rounded):
        return True
    if not (mention.decimals or mention.percent or mention.scale != 1 or "," in mention.raw):
        return False  # bare integers (counts, years, ordinals): exact at their shown precision
    near = rounded if mention.percent else [allowed, allowed / 100]  # 0.235 for 23.5 (%)
    return any(c and abs(c - value) <= RELATIVE_TOLERANCE * c for c in near)


def check_grounding(text: str, allowed: Iterable[float]) -> GroundingResult:
    """Check that every number in ``text`` is one of ``allowed`` (see the module rules)."""
    allowed = [float(a) for a in allowed]
    offending = [m.raw for m in find_numbers(text) if not any(_matches(m, a) for a in allowed)]
    return GroundingResult(grounded=not offending, offending=offending)
