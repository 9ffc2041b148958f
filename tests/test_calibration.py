"""Calibration: loaders, metrics, threshold choice, the decision rule and bench/matcher."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import math
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from warehouse.language import pair_rule as rule
from warehouse.offline import calibration as cal
from warehouse.language.embedding import Embedder, load_embedder

REPO_ROOT = Path(__file__).resolve().parents[1]
SPIDER_PAIRS = REPO_ROOT.parent / "shared" / "data" / "spider_question_pairs" / "pairs.csv.gz"


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    """The process-wide embedder, loaded once for this module."""
    return load_embedder()


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private feature cache for this module."""
    return tmp_path_factory.mktemp("features")


def test_load_pairs_fills_defaults(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    pd.DataFrame({"question1": ["a?"], "question2": ["b?"], "label": [1]}).to_csv(path, index=False)
    pairs = cal.load_pairs(path)
    assert list(pairs.columns) == cal.PAIR_COLUMNS
    assert pairs.loc[0, "pair_type"] == "all" and pairs.loc[0, "group"] == "a?"


def test_load_pairs_names_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    pd.DataFrame({"question1": ["a"], "label": [1]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="question2"):
        cal.load_pairs(path)


def test_load_stsb_keeps_only_clear_cases(tmp_path: Path) -> None:
    path = tmp_path / "sts.csv"
    pd.DataFrame({"score": [5.0, 4.0, 3.0, 2.0, 0.5], "sentence1": list("abcde"),
                  "sentence2": list("vwxyz"), "genre": ["main-news"] * 5, "filename": ["f"] * 5,
                  "sts_id": range(5)}).to_csv(path, index=False)
    pairs = cal.load_stsb(path)
    assert pairs["label"].tolist() == [1, 1, 0, 0]
    assert pairs["question1"].tolist() == ["a", "b", "d", "e"]


def test_load_pairs_reads_the_stsb_layout_too(tmp_path: Path) -> None:
    """An STS-B file (dev/test splits have no genre column in some copies) given as --pairs."""
    path = tmp_path / "sts-test.csv.gz"
    pd.DataFrame({"score": [4.6, 3.1, 0.2], "sentence1": ["a", "b", "c"],
                  "sentence2": ["x", "y", "z"]}).to_csv(path, index=False)
    pairs = cal.load_pairs(path)
    assert pairs["label"].tolist() == [1, 0] and pairs["question1"].tolist() == ["a", "c"]
    assert set(pairs["pair_type"]) == {"all"} and pairs["group"].tolist() == ["a", "c"]


def test_match_metrics() -> None:
    metrics = cal.match_metrics(np.array([1, 1, 1, 0, 0], bool), np.array([1, 1, 0, 1, 0], bool))
    assert metrics["served"] == 3 and metrics["false_hits"] == 1
    assert metrics["precision"] == pytest.approx(2 / 3)
    assert metrics["recall"] == pytest.approx(2 / 3)
    assert metrics["false_hit_rate"] == pytest.approx(1 / 3)
    assert math.isnan(cal.match_metrics(np.zeros(2, bool), np.ones(2, bool))["precision"])


def test_calibrate_threshold_picks_lowest_safe_threshold() -> None:
    scores = np.array([0.99, 0.95, 0.92, 0.90, 0.85, 0.80, 0.70])
    labels = np.array([1, 1, 1, 1, 0, 1, 0], bool)
    assert cal.calibrate_threshold(scores, labels, max_false_hit=0.0) == pytest.approx(0.855)
    assert cal.calibrate_threshold(scores, labels, max_false_hit=0.2) == pytest.approx(0.705)
    guard_ok = np.array([1, 1, 1, 1, 0, 1, 1], bool)
    assert cal.calibrate_threshold(scores, labels, guard_ok, max_false_hit=0.0) == pytest.approx(0.705)
    assert cal.calibrate_threshold(scores, ~labels, max_false_hit=0.0) == math.inf


def test_false_hit_bound_is_the_rate_at_zero_and_wider_on_fewer_pairs() -> None:
    assert cal.false_hit_bound(5, 1000) == pytest.approx(0.005)
    small, large = cal.false_hit_bound(5, 1000, z=1.28), cal.false_hit_bound(50, 10000, z=1.28)
    assert 0.005 < large < small < 0.01
    assert cal.false_hit_bound(0, 300, z=1.28) == pytest.approx(1.28 ** 2 / (300 + 1.28 ** 2))
    assert cal.false_hit_bound(0, 0) == math.inf


def test_a_bounded_calibration_is_stricter_than_the_observed_rate() -> None:
    rng = np.random.default_rng(0)
    labels = rng.random(4000) < 0.5
    scores = np.where(labels, rng.normal(0.7, 0.1, 4000), rng.normal(0.4, 0.1, 4000))
    observed = cal.calibrate_threshold(scores, labels, max_false_hit=0.01)
    bounded = cal.calibrate_threshold(scores, labels, max_false_hit=0.01, z=1.28)
    assert observed < bounded < math.inf
    served = scores >= bounded
    assert (served & ~labels).sum() / served.sum() < 0.01


def test_held_out_split_is_deterministic_and_about_thirty_percent() -> None:
    pairs = pd.DataFrame({"group": [f"db{i}" for i in range(2000)]})
    held = cal.held_out_mask(pairs)
    assert np.array_equal(held, cal.held_out_mask(pairs))
    assert 0.25 < held.mean() < 0.35


def test_match_score_is_cosine_when_every_word_matches() -> None:
    assert rule.match_score(0.8, 1.0) == pytest.approx(0.8)
    assert rule.match_score(0.8, 0.2, weight=0.5) == pytest.approx(0.4)


def test_decide_serves_a_paraphrase_and_refuses_a_slot_change(embedder: Embedder) -> None:
    def decide(q1: str, q2: str) -> rule.MatchDecision:
        return rule.decide(q1, embedder.encode_query_detailed(q1), q2, embedder.encode_query_detailed(q2))

    assert decide("How many farms are there?", "Count the number of farms.").same
    refused = decide("Which region had the highest profit last month?",
                     "Which region had the lowest profit last month?")
    assert not refused.same and refused.cosine > 0.8
    assert any(r.startswith("extreme") for r in refused.reasons)
    swapped = decide("Which customers bought the most furniture?",
                     "Which customers bought the most office supplies?")
    assert not swapped.same and swapped.alignment < 0.5
    assert "below" in swapped.reasons[-1] and "weakest word" in swapped.reasons[-1]


@pytest.fixture(scope="module")
def real_slice(embedder: Embedder, cache_dir: Path) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """400 real Spider pairs with their cosine and word alignment."""
    pairs = cal.load_pairs(SPIDER_PAIRS).sample(400, random_state=7).reset_index(drop=True)
    cosine, alignment = rule.pair_features(pairs, embedder, cache_dir)
    return pairs, cosine, alignment


def test_guarded_matcher_has_fewer_false_hits_than_raw_cosine(real_slice) -> None:
    pairs, cosine, alignment = real_slice
    labels = pairs["label"].to_numpy().astype(bool)
    guard_ok = cal.guard_passes(pairs)
    for threshold in (0.75, 0.80):
        raw = cal.match_metrics(cosine >= threshold, labels)
        slots = cal.match_metrics(guard_ok & (cosine >= threshold), labels)
        guarded = cal.match_metrics(guard_ok & (rule.match_score(cosine, alignment) >= threshold), labels)
        assert slots["false_hit_rate"] < raw["false_hit_rate"]
        assert guarded["false_hit_rate"] < raw["false_hit_rate"]
        assert slots["recall"] > 0.8 * raw["recall"]


def test_calibrated_matcher_beats_raw_cosine_at_one_percent(real_slice) -> None:
    pairs, cosine, alignment = real_slice
    labels = pairs["label"].to_numpy().astype(bool)
    guarded = cal.guard_passes(pairs) & (rule.match_score(cosine, alignment) >= rule.CALIBRATED_THRESHOLD)
    raw_threshold = cal.calibrate_threshold(cosine, labels)
    raw_recall = cal.match_metrics(cosine >= raw_threshold, labels)["recall"]
    metrics = cal.match_metrics(guarded, labels)
    assert metrics["recall"] > raw_recall
    assert metrics["false_hit_rate"] <= 0.03


def test_pair_features_are_cached(real_slice, embedder: Embedder, cache_dir: Path) -> None:
    pairs, cosine, alignment = real_slice
    assert list(cache_dir.glob("pair-features-*.npz"))
    again = rule.pair_features(pairs, embedder, cache_dir)
    np.testing.assert_array_equal(again[0], cosine)
    np.testing.assert_array_equal(again[1], alignment)


def _bench() -> ModuleType:
    """bench/matcher imported as a module (it has no .py suffix)."""
    path = REPO_ROOT / "bench" / "matcher"
    loader = importlib.machinery.SourceFileLoader("bench_matcher", str(path))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("bench_matcher", loader))
    loader.exec_module(module)
    return module


def test_bench_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _bench().main(["--help"])
    assert exit_info.value.code == 0
    assert "example: bench/matcher --pairs" in capsys.readouterr().out


def test_bench_scores_a_pairs_file(tmp_path: Path, cache_dir: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mine.csv"
    pd.DataFrame({
        "question1": ["How many farms are there?", "What is the highest revenue by region?"],
        "question2": ["Count the number of farms.", "What is the lowest revenue by region?"],
        "label": [1, 0],
    }).to_csv(path, index=False)
    assert _bench().main(["--pairs", str(path), "--cache-dir", str(cache_dir)]) == 0
    out = capsys.readouterr().out
    assert "mine.csv: 2 pairs, 1 same" in out
    guarded_all = next(line for line in out.splitlines() if line.startswith("bundled") and " all " in line)
    assert guarded_all.split()[-3:] == ["100.0%", "100.0%", "0.0%"]


def test_bench_rejects_a_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _bench().main(["--pairs", "/nonexistent/pairs.csv"])
    assert "no such file" in capsys.readouterr().err
