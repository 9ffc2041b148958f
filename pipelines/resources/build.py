"""Build the resources of a run from the environment (or explicit overrides in tests)."""

from __future__ import annotations

import os
from typing import Any

from pipelines.resources.embedder import EmbedderResource
from pipelines.resources.energy import EnergyMeterResource
from pipelines.resources.llm import AnswerWriterResource
from pipelines.resources.warehouse import WarehouseResource


def build_resources(home: str | None = None, **overrides: Any) -> dict[str, Any]:
    """warehouse, energy, embedder and answer_writer; OFFPEAK_LLM=vllm turns the LLM tier on
    with the model directory in OFFPEAK_LLM_MODEL."""
    backend = os.environ.get("OFFPEAK_LLM", "none")
    resources: dict[str, Any] = {
        "warehouse": WarehouseResource(home=home or os.environ.get("OFFPEAK_HOME")),
        "energy": EnergyMeterResource(),
        "embedder": EmbedderResource(),
        "answer_writer": AnswerWriterResource(llm_backend=backend,
                                              tier1_model_dir=os.environ.get("OFFPEAK_LLM_MODEL", "")),
    }
    resources.update(overrides)
    return resources
