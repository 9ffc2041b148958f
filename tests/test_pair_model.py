"""The matcher's pair model: tuning + calibration on labelled pairs, loading, and the fallback."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from warehouse.language import pair_rule as rule
from warehouse.offline import calibration as cal
from warehouse.language import pair_scorer as pair_model
from warehouse.language.pair_scorer import PairScorer, read_calibration
from warehouse.offline import pair_training
from warehouse.offline.pair_training import labelled_pairs, prepare_pair_model

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="module")
def pairs() -> pd.DataFrame:
    if not (SHARED_DATA / "spider_question_pairs" / "pairs.csv.gz").exists():
        pytest.skip("labelled pairs not found beside the checkout (../shared/data)")
    return labelled_pairs(SHARED_DATA)


@pytest.fixture(scope="module")
def small_model(pairs: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Both models tuned for two steps on a small sample: exercises the real training path."""
    part = cal.split_part(pairs)
    sample = pd.concat([pairs[part == "train"].sample(32, random_state=1),
                        pairs[part == "calibration"].sample(120, random_state=1),
                        pairs[part == "held-out"].head(5)])
    directory = tmp_path_factory.mktemp("models") / "pairs"
    record = prepare_pair_model(sample, directory, say=lambda _: None, batch_size=16)
    return directory, record


def test_split_parts_are_deterministic_and_sized(pairs: pd.DataFrame) -> None:
    part = cal.split_part(pairs)
    assert np.array_equal(part, cal.split_part(pairs))
    share = pd.Series(part).value_counts(normalize=True)
    assert 0.2 < share["held-out"] < 0.4 and 0.08 < share["calibration"] < 0.25
    assert np.array_equal(part == "held-out", cal.held_out_mask(pairs))
    for groups in (set(pairs["group"][part == p]) for p in ("train", "calibration")):
        assert not groups & set(pairs["group"][part == "held-out"])


def test_prepare_writes_a_complete_model_and_its_record(small_model: tuple[Path, dict]) -> None:
    directory, record = small_model
    assert read_calibration(directory) == record
    assert record["training_pairs"] == 32 and record["calibration_pairs"] == 120
    assert record["z"] == pair_training.CALIBRATION_Z
    assert record["weight"] in pair_training.ALIGNMENT_WEIGHTS and record["cross_weight"] in pair_training.CROSS_WEIGHTS
    assert {p.name for p in directory.iterdir()} >= {"bi", "cross", pair_model.CALIBRATION_FILE}
    assert not directory.with_name(directory.name + ".partial").exists()


def test_a_prepared_model_loads_as_the_tuned_scorer(small_model: tuple[Path, dict]) -> None:
    directory, record = small_model
    scorer = pair_model.load_scorer_from(directory)
    assert scorer.source == "tuned"
    assert scorer.threshold == (math.inf if record["threshold"] is None else record["threshold"])
    assert record["created"] in scorer.name
    scores = scorer.pair_scores(pd.DataFrame({"question1": ["How many farms are there?"] * 2,
                                              "question2": ["Count the number of farms.", "x"]}))
    assert scores.shape == (2,) and np.isfinite(scores).all()
    decision = scorer.decide("How many farms are there?", "x")
    assert decision.score == pytest.approx(scores[1], abs=1e-4)


def test_the_cross_encoder_reads_both_orders_alike(small_model: tuple[Path, dict]) -> None:
    cross = pair_model.load_scorer_from(small_model[0]).cross
    one = cross.probabilities(["How many farms are there?"], ["Count the number of farms."])
    other = cross.probabilities(["Count the number of farms."], ["How many farms are there?"])
    assert one == pytest.approx(other, abs=1e-5)


def test_without_a_prepared_model_the_bundled_rule_is_used(tmp_path: Path) -> None:
    scorer = pair_model.load_scorer_from(tmp_path / "nothing-here")
    assert scorer.source == "bundled"
    assert (scorer.weight, scorer.threshold) == (rule.ALIGNMENT_WEIGHT, rule.CALIBRATED_THRESHOLD)


def test_prepare_needs_a_calibration_part(pairs: pd.DataFrame, tmp_path: Path) -> None:
    train_only = pairs[cal.split_part(pairs) == "train"].head(10)
    with pytest.raises(ValueError, match="calibration part"):
        prepare_pair_model(train_only, tmp_path / "m", say=lambda _: None)
    assert not (tmp_path / "m").exists()


def test_scorer_refuses_a_changed_slot_and_serves_a_paraphrase() -> None:
    scorer: PairScorer = pair_model.load_pair_scorer()
    assert scorer.decide("How many farms are there?", "Count the number of farms.")
    refused = scorer.decide("Which product had the highest revenue?", "Which product had the lowest revenue?")
    assert not refused and any("extreme" in r for r in refused.reasons)


def test_prepared_model_meets_the_goal_on_held_out_pairs(pairs: pd.DataFrame) -> None:
    """The product's tuned matcher on Spider pairs it never trained or calibrated on:
    >= 80 % recall at <= 1 % false hits (the issue's goal). Needs `offpeak prepare-matcher`."""
    scorer = pair_model.load_pair_scorer()
    if scorer.source != "tuned":
        pytest.skip("pair model not prepared (make install runs offpeak prepare-matcher)")
    spider = pairs[(cal.split_part(pairs) == "held-out") & ~pairs["pair_type"].str.startswith("main-")]
    served = cal.guard_passes(spider) & (scorer.pair_scores(spider) >= scorer.threshold)
    metrics = cal.match_metrics(served, spider["label"].to_numpy())
    assert metrics["recall"] >= 0.80, metrics
    assert metrics["false_hit_rate"] <= 0.01, metrics
    assert not math.isnan(metrics["precision"])
