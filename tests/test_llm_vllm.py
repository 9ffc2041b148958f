"""The real vLLM path on the CPU: a tiny local Llama (fast) and SmolLM2-135M-Instruct (``llm``).

The tiny model has random weights, so its text is meaningless: the test proves the whole path
(one batched chat call, structured output, per-answer metadata) and that nothing it writes gets
past the parser and the grounding guard.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from pipelines.llm_models import (SMOLLM2_DIRNAME, is_complete, prepare_model_command,
                                  prepare_smollm2)
from pipelines.resources.energy import METHODS
from pipelines.resources.llm import AnswerWriterResource, VllmEngine, VllmEngineResource
from tests.llm_fixtures import build_tiny_llama, example_requests
from warehouse.semantic.grounding import check_grounding

FAMILIES = ("kpi", "drivers", "ranking", "movers", "trend")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny random Llama built locally for this session (~2 s)."""
    return build_tiny_llama(tmp_path_factory.mktemp("models") / "tiny-llama")


@pytest.fixture(scope="session")
def tiny_writer(tiny_model) -> AnswerWriterResource:
    """One writer (and so one vllm.LLM) for all tiny-model tests."""
    return AnswerWriterResource(llm=VllmEngineResource(
        tier1_model_dir=str(tiny_model), max_tokens=24, max_model_len=2048, max_num_seqs=16))


@pytest.fixture
def chat_calls(tiny_writer, monkeypatch) -> list[int]:
    """The number of conversations in each ``vllm.LLM.chat`` call made during the test."""
    engine = tiny_writer.engine(1)
    assert isinstance(engine, VllmEngine)
    llm = engine.llm
    calls: list[int] = []
    real_chat = llm.chat

    def counting_chat(messages, *args, **kwargs):
        calls.append(len(messages))
        return real_chat(messages, *args, **kwargs)

    monkeypatch.setattr(llm, "chat", counting_chat)
    return calls


def test_tiny_model_has_a_head_size_vllm_cpu_supports(tiny_model):
    config = json.loads((tiny_model / "config.json").read_text())
    assert config["hidden_size"] // config["num_attention_heads"] == 32
    assert config["num_hidden_layers"] == 2
    assert "<|im_start|>" in (tiny_model / "chat_template.jinja").read_text()
    assert 500 < len(json.loads((tiny_model / "tokenizer.json").read_text())["model"]["vocab"]) <= 1024


def test_a_night_on_the_tiny_model_is_one_batched_call_and_fully_guarded(tiny_writer, chat_calls):
    requests = example_requests(10, families=FAMILIES)
    routed = [r for r in requests if tiny_writer.route(r) == 1]
    assert len(routed) == 4

    report = tiny_writer.write_answers(requests)

    assert chat_calls == [4] and report.llm_calls == 1
    assert report.parse_failures + report.grounding_failures == 4  # meaningless text, all refused
    assert report.energy_method in METHODS and report.batch_joules > 0
    assert report.model == "tiny-llama"
    by_id = {r.answer_id: r for r in requests}
    for draft in report.drafts:
        request = by_id[draft.answer_id]
        assert draft.tier == 0 and draft.model is None and draft.grounded
        assert draft.text == request.template_text
        assert check_grounding(draft.text, request.numbers).grounded
        if request in routed:
            assert draft.fallback_reason.startswith("tier 1: ")
            assert draft.tokens_in > 100 and 0 < draft.tokens_out <= 24
            assert draft.joules == pytest.approx(report.batch_joules / 4)
            assert draft.energy_method == report.energy_method
        else:
            assert draft.fallback_reason is None and draft.tokens_in == 0 and draft.joules == 0
    kinds = [(b.kind, b.items) for b in report.batches]
    assert kinds[-1] == ("batch", 4)


def test_live_baseline_on_the_tiny_model_is_one_call_per_prompt(tiny_writer, chat_calls):
    baseline = tiny_writer.measure_live_baseline(example_requests(10, families=FAMILIES), sample=3)
    assert chat_calls == [1, 1, 1]
    assert baseline.answers == 3 and baseline.model == "tiny-llama"
    assert baseline.joules_per_answer > 0 and baseline.seconds_per_answer > 0
    assert baseline.method in METHODS


def test_prepare_smollm2_returns_a_complete_directory_at_once(tmp_path):
    target = tmp_path / SMOLLM2_DIRNAME
    target.mkdir()
    (target / ".offpeak-complete").write_text("done\n")
    started = time.perf_counter()
    assert prepare_smollm2(tmp_path) == target
    assert time.perf_counter() - started < 0.5


def test_prepare_model_command_uses_the_home_models_directory(tmp_path, capsys):
    target = tmp_path / "home" / "models" / SMOLLM2_DIRNAME
    target.mkdir(parents=True)
    (target / ".offpeak-complete").write_text("done\n")
    assert prepare_model_command(tmp_path / "home") == target
    assert "already prepared" in capsys.readouterr().out


@pytest.mark.llm
@pytest.mark.slow
def test_a_night_on_smollm2_reports_how_many_narratives_passed_the_guard(tmp_path):
    models_dir = Path(os.environ.get("OFFPEAK_MODELS_DIR") or tmp_path)
    model = prepare_smollm2(models_dir)
    assert is_complete(model)
    writer = AnswerWriterResource(llm=VllmEngineResource(tier1_model_dir=str(model)))
    requests = example_requests(8, families=("drivers", "movers", "summary"))

    report = writer.write_answers(requests)

    passed = [d for d in report.drafts if d.tier == 1]
    print(f"\nSmolLM2: {len(passed)}/{len(requests)} narratives passed the guard; "
          f"{report.parse_failures} unparseable, {report.grounding_failures} refused; "
          f"{report.batch_seconds:.1f} s, {report.batch_joules:.0f} J ({report.energy_method})")
    for draft in report.drafts:
        print(f"  tier {draft.tier}: {draft.text}  [{draft.fallback_reason or 'ok'}]")
    assert report.llm_calls == 1
    assert len(passed) + report.parse_failures + report.grounding_failures == len(requests)
    by_id = {r.answer_id: r for r in requests}
    assert all(check_grounding(d.text, by_id[d.answer_id].numbers).grounded for d in report.drafts)
    assert all(d.tokens_out > 0 and d.model in (None, SMOLLM2_DIRNAME) for d in report.drafts)
