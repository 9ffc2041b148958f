"""What the night's `answers` asset hands the LLM cascade, and what it gets back for each answer."""

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
