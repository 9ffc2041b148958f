"""The matcher's decision rule for two questions, used at serving time.

A candidate answer's question is served for an asked question when
  1. ``slot_guard.guard`` finds no differing slot (number, comparison, aggregate, period, …), and
  2. ``match_score = cosine − weight × (1 − alignment)`` reaches the threshold, where
     ``alignment`` (``slot_guard.align``) is the similarity of the worst-matched content word.
The constants below are the weight and threshold for the bundled encoder; the tuned scorer of
``warehouse.language.pair_scorer`` adds a cross-encoder term and carries its own weights and
threshold, calibrated offline (``warehouse.offline.calibration``).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from warehouse.language import slot_guard
from warehouse.language.embedding import EncodedText, Embedder
from warehouse.language.slot_guard import Guard, align, guard as default_guard

# From `.venv/bin/python bench/matcher --calibrate`: on the development splits of
# spider_question_pairs and STS-B together (10,837 pairs; 30 % of db_ids / sts_ids held out), the
# weight (of 0, 0.25, 0.5, 0.75, 1) and lowest threshold with false hits <= 1 % of served that give
# the most recall (dev recall 66.4 %). With them:
#   spider, 11,804 pairs: recall 73.0 %, false hits 0.8 % of 4,804 served
#     (dev 73.0 % / 0.8 %, held-out 73.0 % / 0.9 %; synonym_substitution 80.5 %, same_sql 61.1 %);
#     raw cosine at its own 1 % threshold (0.960) recalls 13.6 %.
#   STS-B (>= 4 same, <= 2 different), 3,373 pairs: recall 34.5 %, false hits 2.8 % of 499 served.
# The goal (<= 1 % false hits at >= 80 % recall) is not met by this generic matcher.
ALIGNMENT_WEIGHT = 1.0
CALIBRATED_THRESHOLD = 0.24


@dataclass(frozen=True)
class MatchDecision:
    """Whether a candidate question may be served for an asked one, with the figures behind it."""

    same: bool
    score: float
    cosine: float
    alignment: float
    reasons: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.same


def match_score(cosine: np.ndarray | float, alignment: np.ndarray | float,
                weight: float = ALIGNMENT_WEIGHT) -> np.ndarray | float:
    """Cosine lowered by ``weight`` × (1 − alignment): equal to the cosine when every word matches."""
    return cosine - weight * (1.0 - alignment)


def decide(asked: str, asked_vec: EncodedText, candidate: str, candidate_vec: EncodedText,
           *, guard: Guard = default_guard, threshold: float = CALIBRATED_THRESHOLD,
           weight: float = ALIGNMENT_WEIGHT) -> MatchDecision:
    """Apply the calibrated rule to one (asked, candidate) pair; ``guard`` may be a
    ``slot_guard.combine`` of the slot guard and a catalogue-level guard."""
    cosine = float(np.dot(asked_vec.vector, candidate_vec.vector))
    alignment = align(asked, asked_vec, candidate, candidate_vec)
    score = float(match_score(cosine, alignment.score, weight))
    reasons = list(guard(asked, candidate).reasons)
    if score < threshold:
        weakest = "" if alignment.weakest is None else \
            " (weakest word {!r} ~ {!r}: {:.2f})".format(*alignment.weakest)
        reasons.append(f"score {score:.3f} below {threshold:.3f}: cosine {cosine:.3f}, "
                       f"alignment {alignment.score:.2f}{weakest}")
    return MatchDecision(same=not reasons, score=score, cosine=cosine,
                         alignment=alignment.score, reasons=reasons)


def default_cache_dir() -> Path:
    """Where pair features are cached (``$OFFPEAK_CACHE`` or ``<tempdir>/offpeak-cache``)."""
    return Path(os.environ.get("OFFPEAK_CACHE", Path(tempfile.gettempdir()) / "offpeak-cache"))


def pair_features(pairs: pd.DataFrame, embedder: Embedder,
                  cache_dir: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cosine and word alignment of each pair, each distinct text encoded once.

    Cached on disk, keyed by the pairs' texts, the model and the guard's source code.
    """
    cache_file = (cache_dir or default_cache_dir()) / f"pair-features-{features_key(pairs, embedder.model_name)}.npz"
    if cache_file.exists():
        with np.load(cache_file) as cached:
            return cached["cosine"], cached["alignment"]
    texts = sorted(set(pairs["question1"]) | set(pairs["question2"]))
    encoded = dict(zip(texts, embedder.encode_detailed(texts)))
    cosine = np.array([float(np.dot(encoded[a].vector, encoded[b].vector))
                       for a, b in zip(pairs["question1"], pairs["question2"])], dtype=np.float32)
    alignment = np.array([align(a, encoded[a], b, encoded[b]).score
                          for a, b in zip(pairs["question1"], pairs["question2"])], dtype=np.float32)
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache_file, cosine=cosine, alignment=alignment)
    return cosine, alignment


def features_key(pairs: pd.DataFrame, model_name: str) -> str:
    """Hash of the pairs' texts, the model name and the guard's source."""
    digest = hashlib.sha256(model_name.encode())
    digest.update(Path(slot_guard.__file__).read_bytes())
    for a, b in zip(pairs["question1"], pairs["question2"]):
        digest.update(f"{a}\t{b}\n".encode())
    return digest.hexdigest()[:24]
