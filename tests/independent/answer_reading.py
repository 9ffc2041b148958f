"""Read what a served answer states: its figures, its period, its filters, its ranked names.

Only the answer's words are read (the way a person reads them), never the product's internals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_MONTHS = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
# Month names and their abbreviations, whole words only ("margin 2021" is not March 2021).
_MON = (r"(?i:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
        r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\b")
_NUMBER = r"-?\$?-?\d[\d,]*(?:\.\d+)?[kKM]?%?"


@dataclass(frozen=True)
class Figure:
    """A displayed number and how precisely it is displayed."""

    value: float
    tolerance: float
    percent: bool

    def matches(self, true: float, *, strict: bool = False) -> bool:
        """Equal to `true` at the displayed precision; unless strict, also when `true` was first
        rounded to hundredths (double rounding: 5497.496 -> 5497.50 -> $5,498)."""
        slack = 0.0 if strict else 0.005
        return abs(self.value - true) <= self.tolerance + slack + 1e-9 * max(1.0, abs(true))


def figure(text: str) -> Figure | None:
    """'$1,450' -> 1450 (±0.5); '-$20.14' -> -20.14 (±0.005); '12.3%' (±0.05); '$1.2M' (±0.05M)."""
    m = re.fullmatch(r"\s*(-?)\$?(-?)(\d[\d,]*)(?:\.(\d+))?([kKM]?)(%?)\s*", text)
    if not m:
        return None
    sign = -1.0 if (m.group(1) or m.group(2)) else 1.0
    decimals = m.group(4) or ""
    scale = {"k": 1e3, "K": 1e3, "M": 1e6}.get(m.group(5), 1.0)
    value = sign * float(m.group(3).replace(",", "") + ("." + decimals if decimals else "")) * scale
    return Figure(value, 0.5 * 10 ** -len(decimals) * scale, bool(m.group(6)))


def _day(d: str, mon: str, year: str) -> date:
    return date(int(year), _MONTHS[mon[:3].lower()], int(d))


def _month_end(y: int, m: int) -> date:
    return (date(y + m // 12, m % 12 + 1, 1)) - timedelta(days=1)


def stated_period(text: str) -> tuple[date, date] | None:
    """The first date range the text states: '7–13 Feb 2022', '28 Feb–6 Mar 2022', 'Mon 14 Feb
    2022', '3 Dec 2021–2 Jan 2022', 'February 2022', 'Q1 2022', or a bare year."""
    dash = r"\s*[–-]\s*"
    patterns = [
        (rf"(\d{{1,2}}) ({_MON}) (\d{{4}}){dash}(\d{{1,2}}) ({_MON}) (\d{{4}})",
         lambda g: (_day(g[0], g[1], g[2]), _day(g[3], g[4], g[5]))),
        (rf"(\d{{1,2}}) ({_MON}){dash}(\d{{1,2}}) ({_MON}) (\d{{4}})",
         lambda g: (_day(g[0], g[1], g[4]), _day(g[2], g[3], g[4]))),
        (rf"(\d{{1,2}}){dash}(\d{{1,2}}) ({_MON}) (\d{{4}})",
         lambda g: (_day(g[0], g[2], g[3]), _day(g[1], g[2], g[3]))),
        (rf"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)? ?(\d{{1,2}}) ({_MON}) (\d{{4}})",
         lambda g: (_day(g[0], g[1], g[2]),) * 2),
        (rf"({_MON}) (\d{{4}})",
         lambda g: (_day("1", g[0], g[1]), _month_end(int(g[1]), _MONTHS[g[0][:3].lower()]))),
        (r"Q([1-4]) (\d{4})",
         lambda g: (date(int(g[1]), 3 * int(g[0]) - 2, 1), _month_end(int(g[1]), 3 * int(g[0])))),
        (r"\b((?:19|20)\d{2})\b", lambda g: (date(int(g[0]), 1, 1), date(int(g[0]), 12, 31))),
    ]
    best: tuple[int, tuple[date, date]] | None = None
    for pattern, build in patterns:
        m = re.search(pattern, text)
        if m and (best is None or m.start() < best[0]):
            try:
                best = (m.start(), build(m.groups()))
            except (ValueError, KeyError):
                continue
    return best[1] if best else None


@dataclass(frozen=True)
class Headline:
    """'<header> was <value>[, up X% (...) on <period> (<value>)]'."""

    header: str
    value: Figure
    change: Figure | None
    compare_text: str
    compare_value: Figure | None


def headline(text: str) -> Headline | None:
    """The main figure of a single-figure answer, and its comparison when stated."""
    m = re.match(rf"(?P<head>.*?) (?:was|were) (?P<val>{_NUMBER})(?P<rest>.*)$", text, re.S)
    if not m or figure(m.group("val")) is None:
        return None
    rest = m.group("rest")
    change = None
    c = re.match(rf",? (?:up|down) (?P<chg>{_NUMBER})(?: points)?", rest)
    if c:
        change = figure(c.group("chg"))
    cmp_text, cmp_value = "", None
    o = re.search(rf" on (?P<when>.*) \((?P<cv>{_NUMBER})\)\.?\s*$", rest)
    if o:
        cmp_text, cmp_value = o.group("when"), figure(o.group("cv"))
    return Headline(m.group("head"), figure(m.group("val")), change, cmp_text, cmp_value)


@dataclass(frozen=True)
class Listing:
    """A ranked or broken-down answer: header, then (name, figure) items in the stated order."""

    header: str
    items: list[tuple[str, Figure]]


def ranking(text: str) -> Listing | None:
    """'Top 5 customers by revenue in West February 2022: 1. A ($2,111); 2. B ($2,012).'"""
    if text.startswith("No ") and " had any " in text:
        return Listing(text, [])
    head, sep, body = text.partition(": 1. ")
    if not sep:
        return None
    items = []
    for part in re.split(r";\s*(?=\d+\. )", "1. " + body.rstrip(". ")):
        m = re.match(r"\d+\. (?P<name>.*) \((?P<val>[^()]*)\)\.?$", part.strip())
        if not m or figure(m.group("val")) is None:
            return None
        items.append((m.group("name"), figure(m.group("val"))))
    return Listing(head, items)


def breakdown(text: str) -> Listing | None:
    """'Units sold in Furniture February 2022 by segment: Home Office 36 (50.7%), Consumer 24 (...).'"""
    head, sep, body = text.partition(": ")
    if not sep or " by " not in head:
        return None
    items = []
    for m in re.finditer(rf"(?P<name>[A-Z][^,()]*?) (?P<val>{_NUMBER})(?: \([^()]*\))?(?=,|\.?$)",
                         body.strip()):
        items.append((m.group("name").strip(), figure(m.group("val"))))
    return Listing(head, items) if items else None


@dataclass(frozen=True)
class TrendSummary:
    """'<metric> went from A in P1 to B in P2; the weekly peak was C and the low D.'"""

    header: str
    first: Figure
    first_label: str
    last: Figure
    last_label: str
    peak: Figure
    low: Figure


def trend(text: str) -> TrendSummary | None:
    """The first/last/peak/low figures of a trend answer."""
    m = re.match(rf"(?P<head>.*?) went from (?P<a>{_NUMBER}) in (?P<pa>.*?) to (?P<b>{_NUMBER}) "
                 rf"in (?P<pb>.*?); the \w+ peak was (?P<hi>{_NUMBER}) and the low (?P<lo>{_NUMBER})",
                 text)
    if not m:
        return None
    f = {k: figure(m.group(k)) for k in ("a", "b", "hi", "lo")}
    if None in f.values():
        return None
    return TrendSummary(m.group("head"), f["a"], m.group("pa"), f["b"], m.group("pb"), f["hi"],
                        f["lo"])


def named_entities(header: str, vocabulary: list[str]) -> set[str]:
    """Which known dimension values a header names (longest names first, each span used once)."""
    found, taken = set(), header
    for name in sorted(vocabulary, key=len, reverse=True):
        pattern = rf"(?<![\w-]){re.escape(name)}(?![\w-])"
        if re.search(pattern, taken):
            found.add(name)
            taken = re.sub(pattern, " ", taken)
    return found


@dataclass(frozen=True)
class ShareStatement:
    """'<part> brought $a of $b <metric> [in <filters>] <period>, a X% share.'"""

    part: str
    piece: Figure
    whole: Figure
    header: str
    share: Figure


def share(text: str) -> ShareStatement | None:
    """The part, its amount, the whole and the share a share answer states."""
    m = re.match(rf"(?P<part>.+?) brought (?P<a>{_NUMBER}) of (?P<b>{_NUMBER}) (?P<rest>.*), a "
                 rf"(?P<pct>{_NUMBER}) share\.?\s*$", text)
    if not m:
        return None
    a, b, pct = figure(m.group("a")), figure(m.group("b")), figure(m.group("pct"))
    if a is None or b is None or pct is None:
        return None
    return ShareStatement(m.group("part"), a, b, m.group("rest"), pct)


@dataclass(frozen=True)
class CustomerMix:
    """'<period> in <filters>: 5 customers bought, 0 new and 5 returning (0.0% new).'"""

    header: str
    bought: Figure
    new: Figure


def customer_mix(text: str) -> CustomerMix | None:
    """The buying and new customer counts a new-vs-returning answer states."""
    m = re.match(rf"(?P<head>.*?): (?P<b>{_NUMBER}) customers? bought, (?P<n>{_NUMBER}) new", text)
    if not m or figure(m.group("b")) is None or figure(m.group("n")) is None:
        return None
    return CustomerMix(m.group("head"), figure(m.group("b")), figure(m.group("n")))
