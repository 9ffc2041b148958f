"""The ground-truth spec of one logged question: what it means, written by this check only."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from tests.independent.calendar_rules import (comparison_windows, last_complete_months,
                                              last_complete_weeks, resolve)

TRUTH_COLUMNS = ("qid", "user_id", "asked_at", "question", "habit", "shape", "metric", "period",
                 "start", "end", "compare", "cmp_windows", "filters", "dimension", "n", "order",
                 "share_part", "trend_windows", "note")


@dataclass(frozen=True)
class Spec:
    """Meaning of a question. `metric` may list accepted readings as ``a|b`` (ambiguous words).

    `filters` are raw Superstore columns (the asker's scope plus what the question names);
    `share_part` is the extra filter of the numerator of a share (denominator = `filters`).
    """

    shape: str  # scalar | compare | topn | breakdown | share | trend | unanswerable
    metric: str = ""
    period: str = ""
    month: int = 0
    filters: dict[str, str] = field(default_factory=dict)
    compare: str = "none"
    dimension: str = ""
    n: int = 0
    order: str = "top"
    share_part: dict[str, str] = field(default_factory=dict)
    grain: str = ""
    count: int = 0
    note: str = ""


def _window_text(windows: list[tuple[date, date]]) -> str:
    return json.dumps([[s.isoformat(), e.isoformat()] for s, e in windows])


def truth_row(*, qid: str, user_id: str, asked_at: str, question: str, habit: str,
              spec: Spec) -> dict[str, str]:
    """One truth.csv row: the spec with every period resolved against the asking morning."""
    asked = date.fromisoformat(asked_at[:10])
    start = end = ""
    cmp_windows: list[tuple[date, date]] = []
    trend: list[tuple[date, date]] = []
    if spec.shape == "trend":
        trend = (last_complete_weeks(asked, spec.count) if spec.grain == "week"
                 else last_complete_months(asked, spec.count))
        start, end = trend[0][0].isoformat(), trend[-1][1].isoformat()
    elif spec.shape != "unanswerable":
        s, e = resolve(spec.period, asked, spec.month)
        start, end = s.isoformat(), e.isoformat()
        cmp_windows = comparison_windows(spec.period, (s, e), spec.compare)
    return {
        "qid": qid, "user_id": user_id, "asked_at": asked_at, "question": question, "habit": habit,
        "shape": spec.shape, "metric": spec.metric, "period": spec.period, "start": start, "end": end,
        "compare": spec.compare, "cmp_windows": _window_text(cmp_windows),
        "filters": json.dumps(spec.filters, sort_keys=True), "dimension": spec.dimension,
        "n": str(spec.n or ""), "order": spec.order if spec.shape == "topn" else "",
        "share_part": json.dumps(spec.share_part, sort_keys=True) if spec.share_part else "",
        "trend_windows": _window_text(trend) if trend else "", "note": spec.note,
    }

