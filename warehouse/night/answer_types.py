"""What the night's `answers` asset hands the answer writers, and what it gets back."""

from __future__ import annotations

from dataclasses import dataclass

@dataclass(frozen=True)
class AnswerRequest:
    """One distinct question to answer tonight, with the facts computed for it.

    ``numbers`` is the grounding whitelist: every number ``facts`` and ``rows`` contain
    (period years and days included). ``template_text`` is the tier-0 narrative, written from
    the facts without a model.
    """

    answer_id: str
    intent_id: str
    family: str
    question: str
    facts: dict
    rows: list[dict]
    numbers: list[float]
    template_text: str


@dataclass(frozen=True)
class AnswerDraft:
    """The narrative chosen for one answer, with the tier that wrote it and what it cost.

    ``joules`` is this answer's share of the batch it took part in, counted even when the
    model's text was refused and the answer fell back to tier 0 (``fallback_reason`` says why).
    """

    answer_id: str
    text: str
    tier: int
    model: str | None
    tokens_in: int
    tokens_out: int
    joules: float
    energy_method: str
    grounded: bool
    fallback_reason: str | None


_EXAMPLE_QUESTIONS = {
    "drivers": "Why did {metric} change last month vs the month before in the {region}?",
    "movers": "Which categories moved {metric} most last month in the {region}?",
    "summary": "How did {metric} do last month in the {region}?",
    "kpi": "What was {metric} last month in the {region}?",
    "ranking": "Which categories led {metric} last month in the {region}?",
    "trend": "How is {metric} trending in the {region}?",
    "share": "What share of {metric} does each category have in the {region}?",
    "customers": "Which customers drove {metric} last month in the {region}?",
}


def example_requests(n: int, families: tuple[str, ...] = tuple(_EXAMPLE_QUESTIONS),
                     seed: int = 0) -> list[AnswerRequest]:
    """``n`` realistic, deterministic requests cycling through ``families`` (tests, benchmarks)."""
    import random

    rng = random.Random(seed)
    categories = ["Furniture", "Chairs", "Phones", "Binders", "Tables", "Storage", "Paper"]
    requests = []
    for i in range(n):
        family = families[i % len(families)]
        metric = ["revenue", "profit", "sales"][i % 3]
        region = ["West", "East", "South", "North"][i % 4]
        rows = []
        for name in rng.sample(categories, 5):
            value, previous = round(rng.uniform(500, 20000), 2), round(rng.uniform(500, 20000), 2)
            rows.append({"dimension": name, "value": value, "previous": previous,
                         "delta": round(value - previous, 2)})
        value = round(sum(r["value"] for r in rows), 2)
        previous = round(sum(r["previous"] for r in rows), 2)
        delta = round(value - previous, 2)
        delta_pct = round(100 * delta / previous, 2)
        facts = {"metric": metric, "period_label": "October 2026", "value": value,
                 "previous": previous, "delta": delta, "delta_pct": delta_pct, "unit": "$"}
        numbers = [value, previous, delta, delta_pct, 2026.0]
        numbers += [float(r[k]) for r in rows for k in ("value", "previous", "delta")]
        direction = "up" if delta >= 0 else "down"
        template_text = (f"{metric.capitalize()} in the {region} was ${value:,.2f} in October 2026, "
                         f"{direction} {abs(delta_pct):.2f}% from ${previous:,.2f}.")
        requests.append(AnswerRequest(
            answer_id=f"ans-{i:04d}", intent_id=f"{metric}_{family}", family=family,
            question=_EXAMPLE_QUESTIONS.get(family, _EXAMPLE_QUESTIONS["kpi"]).format(
                metric=metric, region=region),
            facts=facts, rows=rows, numbers=numbers, template_text=template_text))
    return requests
