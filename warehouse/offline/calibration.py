"""Calibrating the matcher's decision rule (``warehouse.language.pair_rule``) on real labelled
"same question?" pairs: loaders, the held-out / calibration / training split, metrics, and the
threshold search with ``false_hit_bound``'s margin for a finite calibration set.

A matcher *serves* a pair when it predicts "same"; its **false-hit rate** is false positives / served.

Data: ``spider_question_pairs`` (label 1 = same SQL) and the STS Benchmark train split (score ≥ 4
counts as same, ≤ 2 as different, the rest is left out). Each is split by a hash of its group
(Spider ``db_id``, STS ``filename:sts_id``) into a development part and a 30 % held-out part.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from warehouse.language.pair_rule import (default_cache_dir, features_key, match_score)
from warehouse.language.slot_guard import Guard, guard as slot_guard


MAX_FALSE_HIT = 0.01
STSB_SAME_AT = 4.0
STSB_DIFFERENT_AT = 2.0
HELD_OUT_PERCENT = 30
CALIBRATION_PERCENT = 15
PAIR_COLUMNS = ["question1", "question2", "label", "pair_type", "group"]


def load_pairs(path: str | Path) -> pd.DataFrame:
    """Read a pairs file, CSV or CSV.gz, in either bundled layout: the question-pairs one
    (``question1, question2, label[, pair_type][, db_id]``) or the STS-B one
    (``sentence1, sentence2, score[, genre, filename, sts_id]``, read by ``load_stsb``).

    Returns columns ``question1, question2, label, pair_type, group``; ``pair_type`` defaults to
    ``"all"`` and ``group`` (the unit of the held-out split) to ``db_id`` or else the first question.
    """
    raw = pd.read_csv(path)
    if {"sentence1", "sentence2", "score"} <= set(raw.columns):
        return _stsb_pairs(raw, STSB_SAME_AT, STSB_DIFFERENT_AT)
    missing = {"question1", "question2", "label"} - set(raw.columns)
    if missing:
        raise ValueError(f"{path}: missing column(s) {sorted(missing)}; expected a CSV with "
                         "question1,question2,label[,pair_type] or sentence1,sentence2,score")
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

    ``pair_type`` is the genre (``main-news`` …, else ``"all"``); ``group`` is ``filename:sts_id``
    (else the first sentence).
    """
    return _stsb_pairs(pd.read_csv(path), same_at, different_at)


def _stsb_pairs(raw: pd.DataFrame, same_at: float, different_at: float) -> pd.DataFrame:
    """STS-B rows as labelled pairs (see ``load_stsb``)."""
    kept = raw[(raw["score"] >= same_at) | (raw["score"] <= different_at)]
    has_ids = {"filename", "sts_id"} <= set(kept.columns)
    pairs = pd.DataFrame({
        "question1": kept["sentence1"].astype(str),
        "question2": kept["sentence2"].astype(str),
        "label": (kept["score"] >= same_at).astype(int),
        "pair_type": kept["genre"].astype(str) if "genre" in kept else "all",
        "group": (kept["filename"].astype(str) + ":" + kept["sts_id"].astype(str)) if has_ids
                 else kept["sentence1"].astype(str),
    })
    return pairs[PAIR_COLUMNS].reset_index(drop=True)


def held_out_mask(pairs: pd.DataFrame, percent: int = HELD_OUT_PERCENT) -> np.ndarray:
    """True for pairs whose group is held out: sha256(group) % 100 < ``percent``."""
    return _group_buckets(pairs) < percent


def split_part(pairs: pd.DataFrame) -> np.ndarray:
    """Each pair's part, by the hash bucket of its group: ``"held-out"`` (buckets below
    ``HELD_OUT_PERCENT``), ``"calibration"`` (the next ``CALIBRATION_PERCENT``) or ``"train"``.
    Only the tuned pair model uses the last two; the bundled model's constants were chosen on
    both together (the "dev part")."""
    buckets = _group_buckets(pairs)
    return np.where(buckets < HELD_OUT_PERCENT, "held-out",
                    np.where(buckets < HELD_OUT_PERCENT + CALIBRATION_PERCENT, "calibration", "train"))


def _group_buckets(pairs: pd.DataFrame) -> np.ndarray:
    """sha256(group) % 100 for each pair."""
    return pairs["group"].map(
        lambda g: int(hashlib.sha256(str(g).encode()).hexdigest(), 16) % 100).to_numpy(np.int64)


def cached_scores(pairs: pd.DataFrame, model_name: str, score: Callable[[pd.DataFrame], np.ndarray],
                  cache_dir: Path | None = None) -> np.ndarray:
    """``score(pairs)``, cached on disk like ``pair_features`` (keyed by texts and model name)."""
    cache_file = (cache_dir or default_cache_dir()) / f"pair-scores-{features_key(pairs, model_name)}.npy"
    if cache_file.exists():
        return np.load(cache_file)
    scores = np.asarray(score(pairs), dtype=np.float32)
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache_file, scores)
    return scores


def guard_passes(pairs: pd.DataFrame, guard: Guard = slot_guard) -> np.ndarray:
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


def evaluate(pairs: pd.DataFrame, runs: Iterable[tuple[str, float, np.ndarray]],
             by_type: bool = True) -> pd.DataFrame:
    """Metrics for each ``(matcher, threshold, served mask)`` run, overall (``pair_type`` "all")
    and, with ``by_type``, per ``pair_type``."""
    labels = pairs["label"].to_numpy().astype(bool)
    types = pairs["pair_type"].to_numpy()
    subsets = ["all", *sorted(set(types))] if by_type else ["all"]
    rows = []
    for matcher, threshold, served in runs:
        for pair_type in subsets:
            mask = np.ones(len(types), bool) if pair_type == "all" else types == pair_type
            rows.append({"matcher": matcher, "threshold": threshold, "pair_type": pair_type,
                         **match_metrics(served[mask], labels[mask])})
    return pd.DataFrame(rows)


def false_hit_bound(false_hits: int, served: int, z: float = 0.0) -> float:
    """Upper bound of the false-hit rate behind ``false_hits`` of ``served``: the Wilson score
    bound at ``z`` standard deviations (z = 1.28: one-sided 90 %), or the observed rate at z = 0."""
    if served == 0:
        return math.inf
    rate = false_hits / served
    if z == 0:
        return rate
    spread = z * math.sqrt(rate * (1 - rate) / served + z * z / (4 * served * served))
    return (rate + z * z / (2 * served) + spread) / (1 + z * z / served)


def calibrate_threshold(scores: np.ndarray, labels: np.ndarray, guard_ok: np.ndarray | None = None,
                        max_false_hit: float = MAX_FALSE_HIT, step: float = 0.005,
                        z: float = 0.0) -> float:
    """Lowest threshold on a ``step`` grid (spanning −1…1 and the scores) whose false-hit rate
    (its ``false_hit_bound`` at ``z``) is ≤ ``max_false_hit`` of the pairs it serves; the lowest such threshold serves the
    most, so it maximises recall. A ``z`` above 0 leaves room for the noise of a finite
    calibration set: the fewer pairs served, the stricter the threshold.

    ``guard_ok`` (optional) marks the pairs the guard accepts. Returns ``math.inf`` (serve nothing)
    when no threshold qualifies.
    """
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels).astype(bool)
    eligible = np.ones(len(scores), bool) if guard_ok is None else np.asarray(guard_ok, bool)
    if not eligible.any():
        return math.inf
    low = min(-1.0, math.floor(scores[eligible].min() / step) * step)
    high = max(1.0, math.ceil(scores[eligible].max() / step) * step)
    for threshold in np.round(np.arange(low, high + step / 2, step), 6):
        served = eligible & (scores >= threshold)
        n_served = int(served.sum())
        if n_served and false_hit_bound(int((served & ~labels).sum()), n_served, z) <= max_false_hit:
            return float(threshold)
    return math.inf


def calibrate(cosine: np.ndarray, alignment: np.ndarray, labels: np.ndarray, guard_ok: np.ndarray,
              *, weights: Iterable[float] = (0.0, 0.25, 0.5, 0.75, 1.0),
              max_false_hit: float = MAX_FALSE_HIT, z: float = 0.0) -> tuple[float, float, float]:
    """Choose (alignment weight, threshold) maximising recall at ≤ ``max_false_hit`` (bounded at
    ``z``, see ``calibrate_threshold``); returns ``(weight, threshold, recall)``. Ties go to the
    smaller weight."""
    best = (0.0, math.inf, -1.0)
    for weight in weights:
        scores = match_score(cosine, alignment, weight)
        threshold = calibrate_threshold(scores, labels, guard_ok, max_false_hit, z=z)
        recall = match_metrics(guard_ok & (scores >= threshold), labels)["recall"]
        if recall > best[2]:
            best = (weight, threshold, recall)
    return best
