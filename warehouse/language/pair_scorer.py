"""The question-pair scorer: do two questions ask the same thing?

One rule, two implementations. A candidate question may serve an asked one when the slot guard
(``warehouse.language.slot_guard``) finds no differing slot **and** the pair's score reaches a calibrated
threshold:

- ``TunedScorer`` (the product's, once ``offline.pair_training.prepare_pair_model`` has run): two models fine-tuned from
  the bundled all-MiniLM-L6-v2 weights, on this machine and from the labelled pairs only (nothing
  is downloaded). A bi-encoder gives the cosine and the word alignment (``slot_guard.align``); a
  cross-encoder reads both questions together and gives P(same), averaged over both orders.
  ``score = cosine − weight × (1 − alignment) + cross_weight × P(same)``. Each model alone kept
  about 1.5 % false hits on unseen databases at the recall the goal asks; their mistakes differ
  ("How many flights…" / "How many airlines…" fools the bi-encoder, not the cross-encoder), so
  together they reach it.
- ``BundledScorer`` (until then): the bundled bi-encoder's ``cosine − w × (1 − alignment)`` with
  the constants of ``warehouse.language.pair_rule``.

Pairs are split by a hash of their group (``offline.calibration.split_part``: Spider database / STS item).
The *held-out* 30 % is neither trained nor calibrated on and is what ``bench/matcher`` reports;
the *calibration* 15 % chooses the weights and the threshold; the *training* rest tunes both
models (``warehouse.offline.pair_training``, never imported by the night or the dashboard). The
threshold is the lowest whose false-hit rate on the calibration part, bounded above (Wilson,
one-sided 90 %), stays within 1 %: a threshold fitted to the observed rate of a finite
calibration set served more false hits on unseen databases.
"""

from __future__ import annotations

import json
import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from warehouse.language import pair_rule as rule
from warehouse.language.embedding import Embedder, load_embedder
from warehouse.language.slot_guard import Guard, align, guard as slot_guard

PAIR_MODEL_DIRNAME = "question-pairs"
CALIBRATION_FILE = "offpeak-calibration.json"
DEFAULT_MODELS_ROOT = Path(__file__).resolve().parents[2] / ".models"
SCORE_BATCH = 128

_lock = threading.Lock()
_scorer: "PairScorer | None" = None


class PairScorer(Protocol):
    """Says whether an asked question and a candidate question ask the same thing."""

    source: str
    name: str
    threshold: float

    def decide(self, asked: str, candidate: str, guard: Guard = slot_guard) -> rule.MatchDecision:
        """The guard's refusals plus the threshold's, with the pair's score."""
        ...

    def pair_scores(self, pairs: pd.DataFrame) -> np.ndarray:
        """The score of every ``question1``/``question2`` pair (served when ≥ ``threshold``)."""
        ...


@dataclass(frozen=True)
class BundledScorer:
    """The bundled bi-encoder with the weight and threshold calibrated for it."""

    embedder: Embedder
    weight: float = rule.ALIGNMENT_WEIGHT
    threshold: float = rule.CALIBRATED_THRESHOLD
    source: str = "bundled"

    @property
    def name(self) -> str:
        return self.embedder.model_name

    def decide(self, asked: str, candidate: str, guard: Guard = slot_guard) -> rule.MatchDecision:
        """``pair_rule.decide`` with this encoder, weight and threshold."""
        return rule.decide(asked, self.embedder.encode_query_detailed(asked), candidate,
                          self.embedder.encode_query_detailed(candidate), guard=guard,
                          threshold=self.threshold, weight=self.weight)

    def pair_scores(self, pairs: pd.DataFrame) -> np.ndarray:
        """``cosine − weight × (1 − alignment)`` per pair (features cached on disk)."""
        cosine, alignment = rule.pair_features(pairs, self.embedder)
        return np.asarray(rule.match_score(cosine, alignment, self.weight))


class CrossEncoder:
    """A sequence-pair classifier: P(same question) for two questions read together."""

    def __init__(self, model: Any, tokenizer: Any, max_length: int) -> None:
        self.model, self.tokenizer, self.max_length = model, tokenizer, max_length
        self._lock = threading.Lock()

    def logits(self, first: list[str], second: list[str]) -> Any:
        """The raw logits of the pairs in this order (a torch tensor; gradients as the caller's mode)."""
        encoded = self.tokenizer(first, second, padding=True, truncation=True,
                                 max_length=self.max_length, return_tensors="pt")
        return self.model(**encoded).logits.squeeze(-1)

    def probabilities(self, first: list[str], second: list[str]) -> np.ndarray:
        """P(same) for each pair: the sigmoid of both reading orders' mean logit."""
        import torch

        out = []
        with self._lock, torch.inference_mode():
            for start in range(0, len(first), SCORE_BATCH):
                a, b = first[start:start + SCORE_BATCH], second[start:start + SCORE_BATCH]
                out.append(torch.sigmoid((self.logits(a, b) + self.logits(b, a)) / 2).numpy())
        return np.concatenate(out).astype(np.float32) if out else np.zeros(0, np.float32)

    def save(self, directory: Path) -> None:
        self.model.save_pretrained(str(directory))
        self.tokenizer.save_pretrained(str(directory))

    @classmethod
    def load(cls, directory: Path, max_length: int) -> "CrossEncoder":
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        return cls(AutoModelForSequenceClassification.from_pretrained(str(directory)).eval(),
                   AutoTokenizer.from_pretrained(str(directory)), max_length)


class TunedScorer:
    """The tuned bi-encoder and cross-encoder with their calibrated weights and threshold."""

    source = "tuned"

    def __init__(self, embedder: Embedder, cross: CrossEncoder, weight: float, cross_weight: float,
                 threshold: float, name: str) -> None:
        self.embedder, self.cross = embedder, cross
        self.weight, self.cross_weight, self.threshold, self.name = weight, cross_weight, threshold, name

    def combine(self, cosine: np.ndarray | float, alignment: np.ndarray | float,
                probability: np.ndarray | float) -> np.ndarray | float:
        """``cosine − weight × (1 − alignment) + cross_weight × P(same)``."""
        return rule.match_score(cosine, alignment, self.weight) + self.cross_weight * probability

    def decide(self, asked: str, candidate: str, guard: Guard = slot_guard) -> rule.MatchDecision:
        """The guard's refusals, plus one when the combined score is below the threshold."""
        first, second = self.embedder.encode_query_detailed(asked), self.embedder.encode_query_detailed(candidate)
        cosine = float(np.dot(first.vector, second.vector))
        alignment = align(asked, first, candidate, second).score
        probability = float(self.cross.probabilities([asked], [candidate])[0])
        score = float(self.combine(cosine, alignment, probability))
        reasons = list(guard(asked, candidate).reasons)
        if score < self.threshold:
            reasons.append(f"score {score:.3f} below {self.threshold:.3f}: cosine {cosine:.3f}, "
                           f"alignment {alignment:.2f}, P(same) {probability:.3f}")
        return rule.MatchDecision(same=not reasons, score=score, cosine=cosine, alignment=alignment,
                                 reasons=reasons)

    def pair_scores(self, pairs: pd.DataFrame) -> np.ndarray:
        """The combined score per pair."""
        cosine, alignment = rule.pair_features(pairs, self.embedder)
        probability = self.cross.probabilities(list(pairs["question1"]), list(pairs["question2"]))
        return np.asarray(self.combine(cosine, alignment, probability))


def pair_model_dir() -> Path:
    """Where the tuned models live: ``$OFFPEAK_PAIR_MODEL_DIR``, else ``.models/`` in the checkout."""
    configured = os.environ.get("OFFPEAK_PAIR_MODEL_DIR")
    return Path(configured) if configured else DEFAULT_MODELS_ROOT / PAIR_MODEL_DIRNAME


def load_pair_scorer() -> PairScorer:
    """The process-wide scorer: the tuned one when prepared, else the bundled rule."""
    global _scorer
    with _lock:
        if _scorer is None:
            _scorer = load_scorer_from(pair_model_dir())
        return _scorer


def read_calibration(directory: Path) -> dict | None:
    """The calibration record of a prepared model directory, or None when it is not complete."""
    path = Path(directory) / CALIBRATION_FILE
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def load_scorer_from(directory: Path) -> PairScorer:
    """The tuned scorer prepared in ``directory``, or the bundled rule when there is none."""
    record = read_calibration(directory)
    if record is None:
        return BundledScorer(load_embedder())
    from sentence_transformers import SentenceTransformer

    directory = Path(directory)
    name = f"{record['base_model']} tuned {record['created']}"
    embedder = Embedder(SentenceTransformer(str(directory / "bi"), device="cpu"), model_name=f"{name} bi")
    cross = CrossEncoder.load(directory / "cross", int(record["training"]["max_length"]))
    threshold = math.inf if record["threshold"] is None else float(record["threshold"])   # None: serve nothing
    return TunedScorer(embedder, cross, float(record["weight"]), float(record["cross_weight"]), threshold, name)

