"""The question catalogue: the semantic layer of what Offpeak can answer.

An *intent* is a kind of question with typed parameters ("revenue for a period, vs the previous
period, in a scope"). Intents are generated from a few families so that their SQL, phrasing and
chart stay consistent; each has a stable id, fixed bindings (e.g. metric=revenue, compare=prev)
and free parameters (period, n, filters). User text never becomes SQL: a question is mapped to
an intent and typed parameter values, and the SQL binds those values.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from warehouse.storage.canonical import DIMENSION_COLUMNS
from warehouse.storage.semantic_layer import Dimension, Metric, SemanticLayer, active_layer
from warehouse.semantic.periods import PERIODS

LAYER: SemanticLayer = active_layer()
METRICS: dict[str, Metric] = LAYER.metrics
DIMENSIONS: dict[str, Dimension] = LAYER.dimensions
# Dimensions a question can rank, break down or filter by: name -> (column, plural label).
RANK_DIMENSIONS: dict[str, tuple[str, str]] = {d.name: (d.column, d.plural) for d in DIMENSIONS.values()}
# The dimension columns whose values a question may name (read from the data into entity_values).
ENTITY_COLUMNS: tuple[str, ...] = tuple(d.column for d in DIMENSIONS.values() if d.values)


@dataclass(frozen=True)
class Intent:
    """One kind of question: fixed bindings plus the free parameters it takes."""

    intent_id: str
    family: str
    title: str
    fixed: dict[str, Any]
    free: tuple[str, ...]          # names among: period, n, metric, dimension, entity
    chart_kind: str
    phrasings: tuple[str, ...]     # templates with {metric}, {period}, {n}, {dimension}, {entity}
    defaults: dict[str, Any] = field(default_factory=dict)

    def bind(self, params: dict[str, Any]) -> dict[str, Any]:
        """Complete parameters: fixed bindings win, then given values, then defaults."""
        merged = {**self.defaults, **{k: v for k, v in params.items() if v is not None}, **self.fixed}
        merged.setdefault("filters", {})
        return merged


def _kpi_intents(shapes: tuple[str, ...]) -> list[Intent]:
    out = []
    for m in METRICS.values():
        out.append(Intent(
            f"{m.name}_total", "kpi", f"{m.label} for a period", {"metric": m.name, "compare": "none"},
            ("period",), "kpi",
            ("What was {metric} {period}?", "{metric} {period}", "How much {metric} did we have {period}?",
             "Show me {metric} for {period}")))
        out.append(Intent(
            f"{m.name}_vs_prev", "kpi", f"{m.label} vs the previous period", {"metric": m.name, "compare": "prev"},
            ("period",), "kpi",
            ("How did {metric} {period} compare with the period before?",
             "{metric} {period} vs previous period", "What was the change in {metric} {period}?",
             "Did {metric} grow {period}?")))
        out.append(Intent(
            f"{m.name}_vs_last_year", "kpi", f"{m.label} vs the same period last year",
            {"metric": m.name, "compare": "yoy"}, ("period",), "kpi",
            ("How did {metric} {period} compare with the same period last year?",
             "{metric} {period} vs last year", "{metric} {period} year over year",
             "Is {metric} {period} up on last year?")))
    wanted = {"none": "total", "prev": "vs_previous", "yoy": "vs_last_year"}
    return [i for i in out if wanted[i.fixed["compare"]] in shapes]


def ranking_intent_id(direction: str, dimension: str) -> str:
    """``top_products``: the ranking intent of a direction and a dimension."""
    return f"{direction}_{re.sub(r'[^a-z0-9]+', '_', DIMENSIONS[dimension].plural.lower())}"


def _ranking_intents(shapes: tuple[str, ...]) -> list[Intent]:
    out = []
    directions = [d for d in (("top", ("top", "best", "highest")), ("bottom", ("bottom", "worst", "lowest")))
                  if f"{d[0]}_n" in shapes]
    for dim in (d.name for d in DIMENSIONS.values() if d.rank):
        plural = RANK_DIMENSIONS[dim][1]
        for direction, words in directions:
            out.append(Intent(
                ranking_intent_id(direction, dim), "ranking",
                f"{words[0].title()} N {plural} by a metric", {"dimension": dim, "direction": direction},
                ("period", "n", "metric"), "bar",
                (f"What were the {words[0]} {{n}} {plural} by {{metric}} {{period}}?",
                 f"{words[0]} {{n}} {plural} {{period}} by {{metric}}",
                 f"Which {plural} had the {words[2]} {{metric}} {{period}}?",
                 f"{words[1]} {{n}} {plural} for {{metric}} {{period}}"),
                {"n": LAYER.defaults["n"], "metric": LAYER.defaults["metric"]}))
    return out


# A trend's points unless the question says how many ("by week, last 6 weeks"), and the most.
TREND_POINTS = 12
MAX_TREND_POINTS = {"week": 26, "month": 24}


def _other_intents(shapes: tuple[str, ...]) -> list[Intent]:
    default_metric, default_n = LAYER.defaults["metric"], LAYER.defaults["n"]
    intents = [
        Intent("trend_weekly", "trend", "Weekly trend of a metric", {"grain": "week"}, ("metric", "n"), "line",
               ("What is the weekly trend of {metric}?", "{metric} by week over the last {n} weeks",
                "Show {metric} week by week", "weekly {metric} trend"),
               {"metric": default_metric, "period": "last_12_weeks", "n": TREND_POINTS}),
        Intent("trend_monthly", "trend", "Monthly trend of a metric", {"grain": "month"}, ("metric", "n"), "line",
               ("What is the monthly trend of {metric}?", "{metric} by month over the last {n} months",
                "Show {metric} month by month", "monthly {metric} trend"),
               {"metric": default_metric, "period": "last_12_months", "n": TREND_POINTS}),
        Intent("breakdown", "breakdown", "A metric broken down by a dimension", {},
               ("period", "metric", "dimension"), "bar",
               ("What was {metric} by {dimension} {period}?", "{metric} {period} split by {dimension}",
                "Break down {metric} by {dimension} for {period}", "{metric} per {dimension} {period}"),
               {"metric": default_metric, "dimension": LAYER.defaults["breakdown"]}),
        Intent("share_of_total", "share", "Share of total for one entity", {},
               ("period", "metric", "entity"), "bar",
               ("What share of {metric} came from {entity} {period}?",
                "{entity} share of total {metric} {period}",
                "What percentage of {metric} is {entity} {period}?",
                "How much of our {metric} {period} was {entity}?"),
               {"metric": default_metric}),
        Intent("biggest_movers", "movers", "Biggest movers vs the previous period", {"compare": "prev"},
               ("period", "metric", "dimension", "n"), "bar",
               ("Which {dimension_plural} moved the most in {metric} {period}?",
                "biggest movers in {metric} by {dimension} {period}",
                "What were the biggest gainers and decliners in {metric} {period}?",
                "top movers {metric} {period}"),
               {"metric": default_metric, "dimension": LAYER.defaults["movers"], "n": default_n}),
        Intent("why_changed", "drivers", "Why a metric changed: driver breakdown", {},
               ("period", "metric", "compare"), "bar",
               ("Why did {metric} change {period}?", "What drove the change in {metric} {period}?",
                "Explain the {metric} movement {period}", "What is behind the {metric} change {period}?"),
               {"metric": default_metric, "compare": "prev"}),
        Intent("new_vs_returning", "customers", "New vs returning customers", {}, ("period",), "bar",
               ("How many new vs returning customers did we have {period}?",
                "new and returning customers {period}", "How many new customers {period}?",
                "customer acquisition {period}: new versus repeat")),
    ]
    return [i for i in intents if _SHAPE_OF_FAMILY[i.family] in shapes]


# The layer's shape of question behind each family of intent (kpi and ranking have several).
_SHAPE_OF_FAMILY = {"trend": "trend", "breakdown": "breakdown", "share": "share", "movers": "movers",
                    "drivers": "drivers", "customers": "new_vs_returning"}


def build_catalogue(shapes: tuple[str, ...] = LAYER.shapes) -> dict[str, Intent]:
    """Every intent the layer's question shapes answer, by id."""
    intents = _kpi_intents(shapes) + _ranking_intents(shapes) + _other_intents(shapes)
    return {i.intent_id: i for i in intents}


CATALOGUE: dict[str, Intent] = build_catalogue()

PERIOD_PHRASES: dict[str, str] = {
    "yesterday": "yesterday", "last_7_days": "in the last 7 days", "last_30_days": "in the last 30 days",
    "last_week": "last week", "this_week": "this week so far", "last_month": "last month",
    "month_to_date": "month to date", "last_quarter": "last quarter",
    "quarter_to_date": "quarter to date", "last_year": "last year", "year_to_date": "year to date",
    "last_12_weeks": "over the last 12 weeks", "last_12_months": "over the last 12 months",
}


def instance_key(intent_id: str, params: dict[str, Any]) -> str:
    """A stable key for a question instance: the intent plus its parameters, canonically ordered."""
    return f"{intent_id}|{json.dumps(params, sort_keys=True, separators=(',', ':'))}"


def answer_id_for(night: str, key: str) -> str:
    """A short stable id for the answer of one instance on one night."""
    return "a" + hashlib.sha1(f"{night}|{key}".encode()).hexdigest()[:15]


def _scope_phrase(filters: dict[str, str]) -> str:
    return "" if not filters else " in " + ", ".join(v for _, v in sorted(filters.items()))


def phrase(intent: Intent, params: dict[str, Any], variant: int = 0) -> str:
    """A natural question for an intent with bound parameters (variant 0 is canonical)."""
    metric = METRICS[params["metric"]].label.lower() if "metric" in params else ""
    dim = params.get("dimension", LAYER.defaults["breakdown"])
    template = intent.phrasings[variant % len(intent.phrasings)]
    text = template.format(
        metric=metric, period=PERIOD_PHRASES.get(params.get("period", ""), ""), n=params.get("n", 5),
        dimension=DIMENSIONS[dim].label if dim in DIMENSIONS else dim, dimension_plural=RANK_DIMENSIONS.get(dim, (dim, dim + "s"))[1],
        entity=params.get("entity", {}).get("value", "") if isinstance(params.get("entity"), dict) else "")
    text = " ".join(text.split())
    text = text[0].upper() + text[1:]
    scope = _scope_phrase(params.get("filters", {}))
    if scope:
        text = text.rstrip("?") + scope + ("?" if text.endswith("?") else "")
    return text


def validate_params(intent: Intent, params: dict[str, Any]) -> None:
    """Raise ValueError when a parameter is not of its type or not allowed."""
    if params.get("metric") not in (None, *METRICS):
        raise ValueError(f"unknown metric {params.get('metric')!r}")
    period = params.get("period")
    if "period" in intent.free and period not in PERIODS:
        raise ValueError(f"intent {intent.intent_id} needs a period among {', '.join(PERIODS)}")
    n = params.get("n")
    if n is not None and (isinstance(n, bool) or not (isinstance(n, int) and 1 <= n <= 50)):
        raise ValueError("n must be a whole number from 1 to 50")
    if params.get("dimension") not in (None, *RANK_DIMENSIONS):
        raise ValueError(f"unknown dimension {params.get('dimension')!r}")
    for column in params.get("filters", {}):
        if column not in DIMENSION_COLUMNS:
            raise ValueError(f"cannot filter on {column!r}")
    entity = params.get("entity")
    if "entity" in intent.free and not (isinstance(entity, dict) and entity.get("column") in DIMENSION_COLUMNS):
        raise ValueError(f"intent {intent.intent_id} needs an entity (a value of a dimension)")
