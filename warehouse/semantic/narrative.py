"""Tier 0: a template writes the narrative from the facts, at zero model cost.

Every number in the text is formatted from a value in the facts, so tier-0 text is grounded by
construction (and the grounding check verifies it like any other tier).
"""

from __future__ import annotations

from typing import Any

from warehouse.semantic.catalogue import LAYER, METRICS, RANK_DIMENSIONS
from warehouse.semantic.facts import Facts
from warehouse.semantic.formatting import format_figure


def _change_phrase(f: dict[str, Any], unit: str) -> str:
    direction = f.get("direction")
    if direction is None:
        return ""
    if direction == "flat":
        return f", flat on {f['compare_label']} ({format_figure(f['previous'], unit)})"
    word = "up" if direction == "up" else "down"
    pct = f" {abs(f['delta_pct']):.1f}%" if f.get("delta_pct") is not None else ""
    if unit == "%":
        return (f", {word} {abs(f['delta']):.1f} points on {f['compare_label']} "
                f"({format_figure(f['previous'], unit)})")
    return f", {word}{pct} ({format_figure(abs(f['delta']), unit)}) on {f['compare_label']} ({format_figure(f['previous'], unit)})"


def _where(params: dict[str, Any]) -> str:
    filters = params.get("filters", {})
    return "" if not filters else " in " + ", ".join(v for _, v in sorted(filters.items()))


def headline(facts: Facts) -> str:
    """A short card title, e.g. "Revenue, October 2026, West"."""
    f, p = facts.key_figures, facts.params
    parts = [f.get("metric_label", "")]
    if facts.intent_id.startswith(("top_", "bottom_")):
        parts = [f"{p['direction'].title()} {p['n']} {RANK_DIMENSIONS[p['dimension']][1]} by {f['metric_label'].lower()}"]
    elif facts.intent_id == "why_changed":
        parts = [f"Why {f['metric_label'].lower()} changed"]
    elif facts.intent_id == "biggest_movers":
        parts = [f"Biggest movers in {f['metric_label'].lower()}"]
    elif facts.intent_id == "new_vs_returning":
        parts = ["New vs returning customers"]
    elif facts.intent_id.startswith("trend_"):
        parts = [f"{f['metric_label']}, {f['grain']}ly trend"]
    elif facts.intent_id == "share_of_total":
        parts = [f"{f['entity']} share of {f['metric_label'].lower()}"]
    elif facts.intent_id == "breakdown":
        parts = [f"{f['metric_label']} by {p['dimension'].replace('_', '-')}"]
    if "period_label" in f:
        parts.append(f["period_label"])
    filters = p.get("filters", {})
    if filters:
        parts.append(", ".join(v for _, v in sorted(filters.items())))
    return " · ".join(x for x in parts if x)


def _kpi(f, p) -> str:
    unit = f["unit"]
    if f.get("no_lines"):
        return f"{f['metric_label']}{_where(p)} {f['period_label']}: no orders, so no figure to give."
    said = f"{f['metric_label']}{_where(p)} {f['period_label']} was {format_figure(f['value'], unit)}"
    if f.get("compare_no_lines"):
        return f"{said}; there were no orders on {f['compare_label']} to compare with."
    return f"{said}{_change_phrase(f, unit)}."


def _ranking(f, p, rows) -> str:
    plural = RANK_DIMENSIONS[p["dimension"]][1]
    unit = f["unit"]
    if not rows:
        return f"No {plural}{_where(p)} had any sales {f['period_label']}."
    listed = "; ".join(f"{r['rank']}. {r['label']} ({format_figure(r['value'], unit)})" for r in rows)
    word = "Top" if p["direction"] == "top" else "Bottom"
    return f"{word} {len(rows)} {plural} by {f['metric_label'].lower()}{_where(p)} {f['period_label']}: {listed}."


def _trend(f, p, rows) -> str:
    unit = f["unit"]
    return (f"{f['metric_label']}{_where(p)} went from {format_figure(f['first_value'], unit)} in {f['first_label']} "
            f"to {format_figure(f['value'], unit)} in {f['last_label']}; the {f['grain']}ly peak was "
            f"{format_figure(f['peak'], unit)} and the low {format_figure(f['low'], unit)}.")


def _breakdown(f, p, rows) -> str:
    unit = f["unit"]
    if not rows:
        return f"No {f['metric_label'].lower()}{_where(p)} {f['period_label']}."
    parts = ", ".join(f"{r['label']} {format_figure(r['value'], unit)}" + (f" ({r['share_pct']:.1f}%)" if "share_pct" in r else "")
                      for r in rows[:6])
    return f"{f['metric_label']}{_where(p)} {f['period_label']} by {p['dimension'].replace('_', '-')}: {parts}."


def _share(f, p, rows) -> str:
    unit = f["unit"]
    return (f"{f['entity']} brought {format_figure(f['value'], unit)} of {format_figure(f['total'], unit)} "
            f"{f['metric_label'].lower()}{_where(p)} {f['period_label']}, a {f['share_pct']:.1f}% share.")


def _movers(f, p, rows) -> str:
    unit = f["unit"]
    if not rows:
        return f"Nothing moved{_where(p)} {f['period_label']}."
    parts = "; ".join(f"{r['label']} {'+' if r['delta'] >= 0 else '-'}{format_figure(abs(r['delta']), unit)} "
                      f"({format_figure(r['previous'], unit)} to {format_figure(r['value'], unit)})" for r in rows)
    return (f"Biggest movers in {f['metric_label'].lower()}{_where(p)} {f['period_label']} "
            f"vs {f['compare_label']}: {parts}.")


def _drivers(f, p, rows) -> str:
    unit = f["unit"]
    head = f"{f['metric_label']}{_where(p)} {f['period_label']} was {format_figure(f['value'], unit)}{_change_phrase(f, unit)}."
    if not rows:
        return head
    parts = "; ".join(f"{r['label']} ({r['dimension'].replace('_', '-')}) {'+' if r['delta'] >= 0 else '-'}"
                      f"{format_figure(abs(r['delta']), unit)}" for r in rows[:4])
    return f"{head} Largest contributions: {parts}."


def _customers(f, p, rows) -> str:
    return (f"{f['period_label'].capitalize()}{_where(p)}: {f['customers']:,} customers bought, "
            f"{f['new_customers']:,} new and {f['returning_customers']:,} returning "
            f"({f['new_share_pct']:.1f}% new).")


def template_narrative(facts: Facts) -> str:
    """The tier-0 narrative for a question instance's facts."""
    family_of = {"kpi": _kpi}
    f, p, rows = facts.key_figures, facts.params, facts.rows
    from warehouse.semantic.catalogue import CATALOGUE
    family = CATALOGUE[facts.intent_id].family
    if family in family_of:
        return family_of[family](f, p)
    writer = {"ranking": _ranking, "trend": _trend, "breakdown": _breakdown, "share": _share,
              "movers": _movers, "drivers": _drivers, "customers": _customers}[family]
    return writer(f, p, rows)


def unit_of(facts: Facts) -> str:
    """The unit of the facts' key figure."""
    return METRICS[facts.params.get("metric", LAYER.defaults["metric"])].unit
