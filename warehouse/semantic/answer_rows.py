"""The ``answers`` row of one computed instance: what a card shows, from its facts and its text."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from warehouse.semantic.catalogue import CATALOGUE, answer_id_for, phrase
from warehouse.semantic.facts import Facts
from warehouse.semantic.narrative import headline


def answer_row(night: date, key: str, facts: Facts, text: str) -> dict[str, Any]:
    """The ``answers`` row of one instance (tier columns are filled by the writer)."""
    f = facts.key_figures
    intent = CATALOGUE[facts.intent_id]
    return {
        "night": night, "answer_id": answer_id_for(night.isoformat(), key), "instance_key": key,
        "intent_id": facts.intent_id, "params": json.dumps(facts.params, sort_keys=True),
        "scope_key": ";".join(f"{c}={v}" for c, v in sorted(facts.params.get("filters", {}).items())) or "*",
        "question_text": phrase(intent, facts.params), "headline": headline(facts), "narrative": text,
        "key_label": f.get("metric_label"), "key_value": _num(f.get("value")),
        "previous_value": _num(f.get("previous")), "delta": _num(f.get("delta")),
        "delta_pct": _num(f.get("delta_pct")), "direction": f.get("direction"), "unit": f.get("unit"),
        "chart_kind": intent.chart_kind, "chart_data": json.dumps(facts.chart_data, default=str),
        "numbers": json.dumps(facts.numbers),
    }


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
