"""Judge one served answer against its truth row: right, wrong (with reasons) or not checkable."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date

from tests.independent.answer_reading import (CustomerMix, Figure, Listing, breakdown,
                                              customer_mix, headline, named_entities, ranking,
                                              share, stated_period, trend)
from tests.independent.truth import Oracle, change_pct

# How an answer says a figure is undefined (a ratio or an average over no orders).
NO_FIGURE = re.compile(r": no orders, so no figure to give\.?$")
NOTHING_TO_COMPARE = re.compile(r"; there were no orders on (.+?) to compare with\.?$")

Window = tuple[date, date]


@dataclass
class Verdict:
    """The outcome for one served answer; `reasons` say what differed (cause tags first)."""

    verdict: str  # right | wrong | not-checkable
    reasons: list[str] = field(default_factory=list)
    true_value: str = ""
    notes: list[str] = field(default_factory=list)  # defects that state no wrong number


def _windows(text: str) -> list[Window]:
    return [(date.fromisoformat(s), date.fromisoformat(e)) for s, e in json.loads(text or "[]")]


def _fmt(w: Window) -> str:
    return f"{w[0]}..{w[1]}"


def _num(x: float | None) -> str:
    return "undefined" if x is None else f"{x:,.2f}"


class Checker:
    """Checks served answers over one oracle."""

    def __init__(self, oracle: Oracle) -> None:
        self.oracle = oracle
        self.entities = oracle.entity_names()

    def judge(self, truth: dict[str, str], answer_text: str) -> Verdict:
        """Classify one served answer."""
        shape = truth["shape"]
        if shape == "unanswerable":
            return Verdict("wrong", ["unanswerable but served"], "not in the data")
        filters = json.loads(truth["filters"])
        if shape == "trend":
            return self._trend(truth, filters, answer_text)
        window = (date.fromisoformat(truth["start"]), date.fromisoformat(truth["end"]))
        if shape in ("topn", "breakdown"):
            return self._listing(truth, filters, window, answer_text)
        if shape == "share":
            return self._share(truth, filters, window, answer_text)
        return self._single(truth, filters, window, answer_text)

    def _context(self, header: str, filters: dict[str, str], window: Window) -> list[str]:
        """Reasons the stated period or filters differ from the truth (empty when they agree)."""
        reasons = []
        stated = stated_period(header)
        if stated and stated != window:
            reasons.append(f"period: states {_fmt(stated)}, asked {_fmt(window)}")
        want = {v for v in filters.values() if v in self.entities}
        got = named_entities(header, self.entities)
        if got != want:
            reasons.append(f"filters: states {sorted(got)}, asked {sorted(want)}")
        return reasons

    def _single(self, truth: dict[str, str], filters: dict[str, str], window: Window,
                text: str) -> Verdict:
        values = self.oracle.readings(truth["metric"], filters, window)
        shown = " or ".join(_num(v) for v in values)
        if text.startswith("No ") and headline(text) is None:
            zero = all(v in (None, 0.0) for v in values)
            return Verdict("right" if zero else "wrong", [] if zero else ["value: says none"], shown)
        if NO_FIGURE.search(text):     # "...: no orders, so no figure to give." (a ratio over nothing)
            undefined = all(v is None for v in values)
            return Verdict("right" if undefined else "wrong", [] if undefined else ["value: says no orders"], shown)
        mix = customer_mix(text)
        if mix is not None:
            return self._customer_mix(mix, truth, filters, window, values)
        h = headline(text)
        if h is None:
            kind = "a listing" if (ranking(text) or breakdown(text) or trend(text)) else None
            if kind:
                return Verdict("wrong", [f"shape: answered {kind}, asked one figure"], shown)
            return Verdict("not-checkable", ["answer text not read"], shown)
        reasons = self._context(h.header, filters, window)
        defined = [v for v in values if v is not None]
        if not defined:
            verdict = "wrong" if reasons else "not-checkable"
            return Verdict(verdict, reasons + ["true value undefined (no sales)"], shown)
        if not any(h.value.matches(v) for v in defined):
            reasons.append(f"value: states {h.value.value:g}, true {shown}")
        if truth["compare"] != "none":
            reasons += self._comparison(truth, filters, h, defined, text)
        return Verdict("wrong" if reasons else "right", reasons, shown)

    def _customer_mix(self, mix: CustomerMix, truth: dict[str, str], filters: dict[str, str],
                      window: Window, values: list[float | None]) -> Verdict:
        """A 'N customers bought, M new' answer: N for active customers, M for new ones."""
        shown = " or ".join(_num(v) for v in values)
        stated = {"customers": mix.bought, "new_customers": mix.new}.get(truth["metric"].split("|")[0])
        if stated is None:
            return Verdict("wrong", [f"shape: answered customer counts, asked {truth['metric']}"],
                           shown)
        reasons = self._context(mix.header, filters, window)
        if not any(v is not None and stated.matches(v) for v in values):
            reasons.append(f"value: states {stated.value:g}, true {shown}")
        return Verdict("wrong" if reasons else "right", reasons, shown)

    def _comparison(self, truth: dict[str, str], filters: dict[str, str], h,
                    current: list[float], text: str) -> list[str]:
        windows = _windows(truth["cmp_windows"])
        nothing = NOTHING_TO_COMPARE.search(text)
        if nothing:                   # "...; there were no orders on <period> to compare with."
            stated = stated_period(nothing.group(1))
            if not any(w == stated for w in windows):
                return [f"comparison period: states {nothing.group(1)!r}, asked "
                        f"{' or '.join(_fmt(w) for w in windows)}"]
            if any(v is not None for v in self.oracle.readings(truth["metric"], filters, stated)):
                return ["comparison: says no orders, there were"]
            return []
        if not h.compare_text or h.compare_value is None:
            return ["comparison: none stated"]
        stated = stated_period(h.compare_text)
        match = [w for w in windows if w == stated]
        if not match:
            return [f"comparison period: states {_fmt(stated) if stated else h.compare_text!r}, "
                    f"asked {' or '.join(_fmt(w) for w in windows)}"]
        previous = [v for v in self.oracle.readings(truth["metric"], filters, match[0])
                    if v is not None]
        if not any(h.compare_value.matches(p) for p in previous):
            return [f"comparison value: states {h.compare_value.value:g}, true "
                    f"{' or '.join(_num(p) for p in previous)}"]
        if h.change is not None and previous:
            points = truth["metric"] == "margin_pct" or "rate" in truth["metric"]
            deltas = [abs(c - p) if points else abs(change_pct(c, p) or 0.0)
                      for c in current for p in previous]
            if not any(Figure(h.change.value, h.change.tolerance + 0.05, True).matches(d)
                       for d in deltas):
                return [f"change: states {h.change.value:g}, true {deltas[0]:.1f}"]
        return []

    def _listing(self, truth: dict[str, str], filters: dict[str, str], window: Window,
                 text: str) -> Verdict:
        members = self.oracle.by_member(truth["metric"], filters, window, truth["dimension"])
        top = truth["order"] != "bottom"
        ranked = sorted(members.items(), key=lambda kv: kv[1], reverse=top)
        want = ranked[: int(truth["n"])] if truth["shape"] == "topn" else ranked
        shown = "; ".join(f"{k} {_num(v)}" for k, v in want) or "none"
        listing: Listing | None = ranking(text) or breakdown(text)
        if listing is None and text.startswith("No ") and headline(text) is None:
            listing = Listing(text, [])
        if listing is None:
            kind = "one figure" if headline(text) else None
            if kind:
                return Verdict("wrong", [f"shape: answered {kind}, asked a list"], shown)
            return Verdict("not-checkable", ["answer text not read"], shown)
        reasons = self._context(listing.header, filters, window)
        items = listing.items
        if truth["shape"] == "topn" and ranking(text) is None:
            items = sorted(items, key=lambda kv: kv[1].value, reverse=top)[: int(truth["n"])]
        reasons += _compare_items(items, want, members, truth["shape"] == "topn")
        notes = []
        if truth["shape"] == "breakdown":
            missing = [k for k, v in want if v != 0 and k not in {n for n, _ in items}]
            if missing:
                notes.append(f"incomplete: {len(missing)} of {len(want)} members left out "
                             f"without saying so ({', '.join(missing)})")
        return Verdict("wrong" if reasons else "right", reasons, shown, notes)

    def _share(self, truth: dict[str, str], filters: dict[str, str], window: Window,
               text: str) -> Verdict:
        part = {**filters, **json.loads(truth["share_part"])}
        whole = self.oracle.readings(truth["metric"], filters, window)[0] or 0.0
        piece = self.oracle.readings(truth["metric"], part, window)[0] or 0.0
        ratio = 100.0 * piece / whole if whole else None
        shown = f"{_num(ratio)}% ({_num(piece)} of {_num(whole)})"
        stated = share(text)
        if stated is None:
            kind = "another shape" if (headline(text) or ranking(text) or breakdown(text)) else None
            if kind:
                return Verdict("wrong", [f"shape: answered {kind}, asked a share"], shown)
            return Verdict("not-checkable", ["answer text not read"], shown)
        reasons = self._context(stated.header, filters, window)
        named_part = named_entities(stated.part, self.entities)
        if named_part != set(json.loads(truth["share_part"]).values()):
            reasons.append(f"share part: states {sorted(named_part)}, asked {truth['share_part']}")
        for label, fig, true in (("part", stated.piece, piece), ("whole", stated.whole, whole)):
            if not fig.matches(true):
                reasons.append(f"value: {label} states {fig.value:g}, true {true:,.2f}")
        if ratio is None:
            verdict = "wrong" if reasons else "not-checkable"
            return Verdict(verdict, reasons + ["true share undefined"], shown)
        if not stated.share.matches(ratio):
            reasons.append(f"value: share states {stated.share.value:g}%, true {ratio:.1f}%")
        return Verdict("wrong" if reasons else "right", reasons, shown)

    def _trend(self, truth: dict[str, str], filters: dict[str, str], text: str) -> Verdict:
        windows = _windows(truth["trend_windows"])
        series = [self.oracle.readings(truth["metric"], filters, w)[0] or 0.0 for w in windows]
        shown = f"{_fmt(windows[0])} {_num(series[0])} .. {_fmt(windows[-1])} {_num(series[-1])}; " \
                f"peak {_num(max(series))} low {_num(min(series))}"
        t = trend(text)
        if t is None:
            return Verdict("not-checkable", ["answer text not read"], shown)
        reasons = [r for r in self._context(t.header, filters, windows[0]) if r.startswith("filters")]
        first, last = stated_period(t.first_label), stated_period(t.last_label)
        if not first or first[0] != windows[0][0] or not last or last[0] != windows[-1][0]:
            reasons.append(f"period: states {t.first_label} .. {t.last_label}, asked "
                           f"{_fmt(windows[0])} .. {_fmt(windows[-1])}")
        for label, fig, true in (("first", t.first, series[0]), ("last", t.last, series[-1]),
                                 ("peak", t.peak, max(series)), ("low", t.low, min(series))):
            if not fig.matches(true):
                reasons.append(f"value: {label} states {fig.value:g}, true {true:,.2f}")
        return Verdict("wrong" if reasons else "right", reasons, shown)


def _compare_items(items: list[tuple[str, Figure]], want: list[tuple[str, float]],
                   members: dict[str, float], ranked: bool) -> list[str]:
    """Each named member's figure must be its true value; the list must be the true one (ties:
    any member with the same value may stand at a rank)."""
    reasons = []
    for name, fig in items:
        if name not in members:
            reasons.append(f"names: {name!r} has no lines in the period")
        elif not fig.matches(members[name]):
            reasons.append(f"value: {name} states {fig.value:g}, true {members[name]:,.2f}")
    if ranked:  # a breakdown that leaves members out states no wrong number: a note, not a reason
        if len(items) < len(want):
            reasons.append(f"n: lists {len(items)}, true list has {len(want)}")
        for (name, fig), (_, true) in zip(items, want):
            if not fig.matches(true):
                reasons.append(f"rank: {name} at a rank whose true value is {true:,.2f}")
                break
    return reasons
