"""The LLM cascade over any chat engine: route, batch, judge, fall back, escalate, live baseline.

Tier 0 is the template text every request already carries; tier 1 a small model; tier 2 a larger
one. Each request goes to the cheapest tier configured for its family. All requests of a tier go
to that tier's engine in ONE batched ``chat`` call (each engine is built once per cascade, on
first need, and its start-up measured). Every reply is parsed (JSON ``{"narrative": ...}``),
tidied and grounded (every number from the facts; with ``require_figure`` at least one figure);
a failure escalates to tier 2 when one is served, and otherwise the answer falls back to its
tier-0 template text, with the reason recorded and counted.

Plain code: the engines and the energy meter come in through the small protocols below, so the
Dagster resources (``pipelines.resources.llm``) only wire them together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ContextManager, Protocol, Sequence

from warehouse.night.answer_types import AnswerDraft, AnswerRequest
from warehouse.night.prompting import build_messages, parse_reply, tidy_narrative
from warehouse.semantic.grounding import check_grounding, find_figures

TEMPLATE_TIER, SMALL_TIER, LARGE_TIER = 0, 1, 2
DEFAULT_LLM_FAMILIES = ("drivers", "movers", "summary")


@dataclass(frozen=True)
class Completion:
    """One model reply with its token counts."""

    text: str
    tokens_in: int
    tokens_out: int


class ChatEngine(Protocol):
    """A loaded model that answers many conversations in one call."""

    model: str

    def chat(self, conversations: list[list[dict]],
             schemas: Sequence[dict | None] | None = None) -> list[Completion]:
        """Answer every conversation, in order, in one batched call; ``schemas[i]`` (when given
        and not None) is the JSON schema conversation i's reply must follow, else the narrative's."""


class EngineSource(Protocol):
    """What serves the LLM tiers: which tiers it has, and a fresh engine for one of them."""

    def serves(self, tier: int) -> bool:
        """True when ``tier`` (1 or 2) has a model."""

    def build_engine(self, tier: int) -> ChatEngine:
        """Load the engine of ``tier`` (expensive: the cascade calls it once per tier)."""


class EnergyWindow(Protocol):
    """A finished energy reading: joules, wall seconds, how it was measured and the detail."""

    joules: float
    seconds: float
    method: str
    detail: str


class Meter(Protocol):
    """Measures the energy of a ``with`` block: ``with meter.measure("label") as reading: ...``."""

    def measure(self, label: str) -> ContextManager[EnergyWindow]:
        """A window whose reading is filled in when the block exits."""


@dataclass(frozen=True)
class CascadeSettings:
    """Routing and judging: which families go to which tier, escalation, the figure rule.

    Families in ``tier2_families`` go to tier 2 when it is served (else to tier 1), families in
    ``llm_families`` to tier 1, every other family stays on tier 0.
    """

    llm_families: tuple[str, ...] = DEFAULT_LLM_FAMILIES
    tier2_families: tuple[str, ...] = ()
    escalate_to_tier2: bool = True
    require_figure: bool = True


@dataclass(frozen=True)
class BatchRecord:
    """One measured window of LLM work, ready for the energy log (kind: start-up or batch)."""

    tier: int
    model: str
    kind: str
    items: int
    joules: float
    seconds: float
    method: str
    detail: str


@dataclass(frozen=True)
class ExtraPrompt:
    """A structured-output prompt that rides in the night's batch beside the narratives (a
    backlog question's query spec): its id, conversation and the JSON schema of its reply."""

    prompt_id: str
    messages: list[dict]
    schema: dict


@dataclass(frozen=True)
class WriteReport:
    """The night's drafts, what the LLM tiers did and what they cost.

    ``parse_failures`` counts replies that were not the JSON asked for; ``grounding_failures``
    narratives the guard refused (a number not in the facts, or no figure cited).
    ``batch_seconds``/``batch_joules`` sum the batched chat calls (start-up excluded; see
    ``batches`` for both); ``energy_method`` is ``none`` when no model ran.
    """

    drafts: list[AnswerDraft]
    llm_calls: int
    parse_failures: int
    grounding_failures: int
    batch_seconds: float
    batch_joules: float
    energy_method: str
    model: str | None
    batches: list[BatchRecord] = field(default_factory=list)
    extra_replies: dict[str, Completion] = field(default_factory=dict)
    extra_joules: float = 0.0
    extra_model: str | None = None


@dataclass(frozen=True)
class LiveBaseline:
    """The same prompts answered one at a time (batch size 1): the live cost per answer.

    ``tokens_out`` is the total of output tokens over the ``answers`` sampled.
    """

    answers: int
    joules_per_answer: float
    seconds_per_answer: float
    method: str
    model: str | None
    tokens_out: int = 0


@dataclass
class _Attempts:
    """What the LLM tiers did for one request so far."""

    tokens_in: int = 0
    tokens_out: int = 0
    joules: float = 0.0
    method: str = "none"
    reasons: list[str] = field(default_factory=list)
    narrative: str | None = None
    tier: int = TEMPLATE_TIER
    model: str | None = None


class Cascade:
    """Writes every answer's narrative on the cheapest tier that fits it, in one batch per tier.

    ``engines`` None means no LLM tier: everything is written at tier 0 (templates, no model).
    Engines are built lazily, once per cascade (one cascade per run).
    """

    def __init__(self, engines: EngineSource | None, meter: Meter,
                 settings: CascadeSettings = CascadeSettings()) -> None:
        self.engines, self.meter, self.settings = engines, meter, settings
        self._built: dict[int, ChatEngine] = {}
        self._startups: list[BatchRecord] = []

    @property
    def built_tiers(self) -> list[int]:
        """The tiers whose engine this cascade has built so far."""
        return sorted(self._built)

    def serves(self, tier: int) -> bool:
        """True when ``tier`` has an engine (tier 0 always does: it needs none)."""
        return tier == TEMPLATE_TIER or (self.engines is not None and self.engines.serves(tier))

    def engine(self, tier: int) -> ChatEngine:
        """The tier's engine, built (and its start-up measured) on first use."""
        if self.engines is None:
            raise ValueError("no LLM tier is configured: every answer is written at tier 0")
        if tier not in self._built:
            with self.meter.measure(f"tier{tier} start-up") as reading:
                self._built[tier] = self.engines.build_engine(tier)
            self._startups.append(_record(tier, self._built[tier].model, "start-up", 0, reading))
        return self._built[tier]

    def route(self, request: AnswerRequest) -> int:
        """The cheapest tier that fits the request's family (0 when no LLM tier is on)."""
        if self.engines is None:
            return TEMPLATE_TIER
        if request.family in self.settings.tier2_families:
            return LARGE_TIER if self.serves(LARGE_TIER) else SMALL_TIER
        return SMALL_TIER if request.family in self.settings.llm_families else TEMPLATE_TIER

    def write_answers(self, requests: list[AnswerRequest], extra: Sequence[ExtraPrompt] = ()) -> WriteReport:
        """Write every request's narrative: one batched chat call per LLM tier, guarded.

        ``extra`` prompts join the batch of the largest tier served (in the same call as that
        tier's narratives); their raw replies come back in ``extra_replies``. Without an LLM
        tier they are not sent (``extra_replies`` is empty)."""
        attempts = {r.answer_id: _Attempts() for r in requests}
        counts = {"calls": 0, "parse": 0, "grounding": 0}
        batches: list[BatchRecord] = []
        replies: dict[str, Completion] = {}
        small = [r for r in requests if self.route(r) == SMALL_TIER]
        large = [r for r in requests if self.route(r) == LARGE_TIER]
        extra_tier = next((t for t in (LARGE_TIER, SMALL_TIER) if self.engines is not None and self.serves(t)), None)
        batches += self._run_batch(SMALL_TIER, small, attempts, counts,
                                   extra=extra if extra_tier == SMALL_TIER else (), replies=replies)
        if self.settings.escalate_to_tier2 and self.serves(LARGE_TIER):
            large += [r for r in small if attempts[r.answer_id].narrative is None]
        batches += self._run_batch(LARGE_TIER, large, attempts, counts,
                                   extra=extra if extra_tier == LARGE_TIER else (), replies=replies)
        drafts = [_draft(r, attempts[r.answer_id]) for r in requests]
        models = sorted({b.model for b in batches})
        extra_batch = next((b for b in batches if b.tier == extra_tier), None) if extra and replies else None
        return WriteReport(
            drafts=drafts, llm_calls=counts["calls"], parse_failures=counts["parse"],
            grounding_failures=counts["grounding"],
            batch_seconds=sum(b.seconds for b in batches),
            batch_joules=sum(b.joules for b in batches),
            energy_method=batches[0].method if batches else "none",
            model=", ".join(models) or None,
            batches=self._take_startups() + batches, extra_replies=replies,
            extra_joules=extra_batch.joules * len(extra) / extra_batch.items if extra_batch else 0.0,
            extra_model=extra_batch.model if extra_batch else None)

    def _take_startups(self) -> list[BatchRecord]:
        """Engine start-ups not reported yet (each is reported once, by the next write)."""
        taken, self._startups = self._startups, []
        return taken

    def _run_batch(self, tier: int, requests: list[AnswerRequest], attempts: dict[str, _Attempts],
                   counts: dict[str, int], *, extra: Sequence[ExtraPrompt] = (),
                   replies: dict[str, Completion]) -> list[BatchRecord]:
        if not requests and not extra:
            return []
        engine = self.engine(tier)
        conversations = [build_messages(r) for r in requests] + [e.messages for e in extra]
        schemas = [None] * len(requests) + [e.schema for e in extra]
        with self.meter.measure(f"tier{tier} batch") as reading:
            completions = engine.chat(conversations, schemas if extra else None)
        counts["calls"] += 1
        share = reading.joules / len(conversations)
        replies.update({e.prompt_id: c for e, c in zip(extra, completions[len(requests):], strict=True)})
        for request, completion in zip(requests, completions[:len(requests)], strict=True):
            attempt = attempts[request.answer_id]
            attempt.tokens_in += completion.tokens_in
            attempt.tokens_out += completion.tokens_out
            attempt.joules += share
            attempt.method = reading.method
            narrative, reason, counter = judge(completion.text, request,
                                               require_figure=self.settings.require_figure)
            if reason:
                counts[counter] += 1
                attempt.reasons.append(f"tier {tier}: {reason}")
                continue
            attempt.narrative, attempt.tier, attempt.model = narrative, tier, engine.model
        return [_record(tier, engine.model, "batch", len(conversations), reading)]

    def measure_live_baseline(self, requests: list[AnswerRequest], sample: int = 8) -> LiveBaseline:
        """Answer up to ``sample`` LLM-routed requests one at a time (one chat call each).

        Uses the same engines (and sampling) as ``write_answers``; engine start-up is excluded.
        """
        chosen = [r for r in requests if self.route(r) != TEMPLATE_TIER][:sample]
        if not chosen:
            return LiveBaseline(0, 0.0, 0.0, "none", None)
        engines = [self.engine(self.route(r)) for r in chosen]
        tokens_out = 0
        with self.meter.measure("live baseline") as reading:
            for request, engine in zip(chosen, engines):
                tokens_out += engine.chat([build_messages(request)])[0].tokens_out
        return LiveBaseline(answers=len(chosen), joules_per_answer=reading.joules / len(chosen),
                            seconds_per_answer=reading.seconds / len(chosen),
                            method=reading.method,
                            model=", ".join(sorted({e.model for e in engines})),
                            tokens_out=tokens_out)


def judge(reply: str, request: AnswerRequest, *,
          require_figure: bool = True) -> tuple[str | None, str | None, str]:
    """The narrative to keep from a reply, or why not and which failure counter it adds to.

    Parse (the JSON asked for, tidied to at most two complete, non-repeating sentences), then
    guard (every number from the facts and, with ``require_figure``, at least one figure cited).
    The counter is ``parse`` or ``grounding`` (empty when the narrative is kept).
    """
    narrative = parse_reply(reply)
    if narrative is None:
        return None, "unparseable reply", "parse"
    narrative = tidy_narrative(narrative)
    if narrative is None:
        return None, "no complete sentence", "parse"
    grounding = check_grounding(narrative, request.numbers)
    if not grounding.grounded:
        return None, f"ungrounded ({', '.join(grounding.offending)})", "grounding"
    if require_figure and not find_figures(narrative):
        return None, "cites no figure from the facts", "grounding"
    return narrative, None, ""


def _record(tier: int, model: str, kind: str, items: int, reading: EnergyWindow) -> BatchRecord:
    return BatchRecord(tier, model, kind, items, reading.joules, reading.seconds, reading.method,
                       reading.detail)


def _draft(request: AnswerRequest, attempt: _Attempts) -> AnswerDraft:
    """The LLM narrative when one passed, else the tier-0 template text (grounding re-checked)."""
    if attempt.narrative is not None:
        text, tier, model, grounded = attempt.narrative, attempt.tier, attempt.model, True
    else:
        text, tier, model = request.template_text, TEMPLATE_TIER, None
        grounded = check_grounding(text, request.numbers).grounded
    return AnswerDraft(
        answer_id=request.answer_id, text=text, tier=tier, model=model,
        tokens_in=attempt.tokens_in, tokens_out=attempt.tokens_out, joules=attempt.joules,
        energy_method=attempt.method, grounded=grounded,
        fallback_reason="; ".join(attempt.reasons) or None)
