"""The bundled sentence-embedding model: offline load, vector shape and norm, determinism, top-k."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from warehouse.language.embedding import EncodedText, Embedder, cosine_top_k, load_embedder

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    """The process-wide embedder, loaded once for this module."""
    return load_embedder()


def test_encode_shape_dtype_and_unit_norm(embedder: Embedder) -> None:
    vectors = embedder.encode(["How many farms are there?", "Revenue last month in the West"])
    assert vectors.shape == (2, 384) == (2, embedder.dimension)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_encode_is_deterministic(embedder: Embedder) -> None:
    texts = ["Top 5 products by sales", "What was our profit in 2023?"]
    np.testing.assert_allclose(embedder.encode(texts), embedder.encode(texts), atol=1e-6)


def test_encode_empty_list(embedder: Embedder) -> None:
    assert embedder.encode([]).shape == (0, 384)


def test_paraphrase_is_closer_than_unrelated_question(embedder: Embedder) -> None:
    q, paraphrase, other = embedder.encode(
        ["How many farms are there?", "Count the number of farms.", "Which city hosts the most events?"])
    assert q @ paraphrase > q @ other + 0.3


def test_load_is_a_singleton_and_offline(embedder: Embedder) -> None:
    assert load_embedder() is embedder
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"
    assert embedder.model_name.endswith("all-MiniLM-L6-v2")


def test_query_cache_returns_the_same_read_only_vector(embedder: Embedder) -> None:
    first = embedder.encode_query("Sales yesterday?")
    assert embedder.encode_query("Sales yesterday?") is first
    assert not first.flags.writeable
    np.testing.assert_allclose(first, embedder.encode(["Sales yesterday?"])[0], atol=1e-5)


def test_query_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    class TwoDimensionalModel:
        def get_embedding_dimension(self) -> int:
            return 2

    small = Embedder(TwoDimensionalModel(), "fake", cache_size=2)
    monkeypatch.setattr(small, "encode_detailed", lambda texts, batch_size=64: [
        EncodedText(np.ones(2, np.float32), (), np.zeros((0, 2), np.float16)) for _ in texts])
    for text in ("a", "b", "c", "b"):
        small.encode_query(text)
    assert list(small._cache) == ["c", "b"]


def test_encode_detailed_keeps_word_vectors(embedder: Embedder) -> None:
    encoded = embedder.encode_detailed(["Show sub-category sales, please!"])[0]
    assert encoded.words == ("show", "sub", "category", "sales", "please")
    assert encoded.word_vectors.shape == (5, 384)
    np.testing.assert_allclose(np.linalg.norm(encoded.word_vectors.astype(np.float32), axis=1), 1.0,
                               atol=1e-2)
    np.testing.assert_allclose(encoded.vector, embedder.encode(["Show sub-category sales, please!"])[0],
                               atol=1e-5)


def test_cosine_top_k_matches_a_full_sort() -> None:
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(1000, 384)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    query = matrix[17] + 0.1 * matrix[3]
    query /= np.linalg.norm(query)
    indices, scores = cosine_top_k(query, matrix, 5)
    expected = np.argsort(-(matrix @ query))[:5]
    assert indices.tolist() == expected.tolist()
    assert indices[0] == 17 and np.all(np.diff(scores) <= 0)
    np.testing.assert_allclose(scores, (matrix @ query)[expected], atol=1e-6)


def test_cosine_top_k_edge_cases() -> None:
    matrix = np.eye(3, dtype=np.float32)
    assert cosine_top_k(matrix[1], matrix, 10)[0].tolist()[0] == 1
    assert len(cosine_top_k(matrix[1], matrix, 10)[0]) == 3
    assert len(cosine_top_k(matrix[1], matrix, 0)[0]) == 0
    assert len(cosine_top_k(matrix[1], np.zeros((0, 3), np.float32), 5)[0]) == 0


@pytest.mark.slow
def test_loads_without_any_hub_access(tmp_path: Path) -> None:
    """A fresh process with no offline flags set and an unreachable hub still loads the model."""
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update(HF_ENDPOINT="http://127.0.0.1:9", HF_HOME=str(tmp_path), PYTHONPATH=str(REPO_ROOT))
    code = ("import os; from warehouse.language.embedding import load_embedder; "
            "v = load_embedder().encode(['hello']); "
            "print(v.shape, os.environ['HF_HUB_OFFLINE'])")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                            timeout=300, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "(1, 384) 1" in result.stdout
