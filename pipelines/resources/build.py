"""Build the resources of a run from the environment (or explicit overrides in tests)."""

from __future__ import annotations

import os
from typing import Any

from pipelines.resources.embedder import EmbedderResource
from pipelines.resources.energy import EnergyMeterResource
from pipelines.resources.llm import AnswerWriterResource, LlmEngineResource, VllmEngineResource
from pipelines.resources.warehouse import WarehouseResource

LLM_CHOICES = ("none", "vllm")


def llm_engine_from_env() -> LlmEngineResource | None:
    """The engine ``OFFPEAK_LLM`` asks for: ``vllm`` (model directory in ``OFFPEAK_LLM_MODEL``,
    empty = the prepared SmolLM2) or ``none``/unset (no LLM tier: templates only)."""
    choice = os.environ.get("OFFPEAK_LLM", "none").strip() or "none"
    if choice not in LLM_CHOICES:
        raise ValueError(f"OFFPEAK_LLM must be one of {LLM_CHOICES}, not {choice!r}")
    if choice == "vllm":
        return VllmEngineResource(tier1_model_dir=os.environ.get("OFFPEAK_LLM_MODEL", ""))
    return None


def build_resources(home: str | None = None, **overrides: Any) -> dict[str, Any]:
    """warehouse, energy, embedder and answer_writer; OFFPEAK_LLM=vllm turns the LLM tier on
    with the model directory in OFFPEAK_LLM_MODEL."""
    resources: dict[str, Any] = {
        "warehouse": WarehouseResource(home=home or os.environ.get("OFFPEAK_HOME")),
        "energy": EnergyMeterResource(),
        "embedder": EmbedderResource(),
        "answer_writer": AnswerWriterResource(llm=llm_engine_from_env()),
    }
    resources.update(overrides)
    return resources
