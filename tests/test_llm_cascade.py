"""The answer-writer cascade with scripted engines: routing, guarding, fallbacks, counts, energy.

The real vLLM path is in tests/test_llm_vllm.py; here ``VllmEngine`` is replaced by a fake that
answers from a script, so every branch of the cascade is exercised in milliseconds.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from dagster import asset, materialize

from pipelines.llm_models import ModelNotPreparedError
from pipelines.resources import llm as llm_module
from pipelines.resources.llm import AnswerWriterResource, Completion, model_label
from warehouse.night.answer_types import AnswerRequest, example_requests


def reply(text: str) -> str:
    return json.dumps({"narrative": text})


class ScriptedEngine:
    """Stands in for VllmEngine: answers each conversation with ``script(user_prompt)``."""

    built: list["ScriptedEngine"] = []

    def __init__(self, model: str, **settings) -> None:
        self.model = model_label(model)
        self.settings = settings
        self.calls: list[int] = []
        self.script = lambda question: reply("Revenue held steady in 2026.")
        ScriptedEngine.built.append(self)

    def chat(self, conversations: list[list[dict]]) -> list[Completion]:
        self.calls.append(len(conversations))
        return [Completion(self.script(c[1]["content"]), tokens_in=100, tokens_out=20)
                for c in conversations]


@pytest.fixture
def fake_engines(monkeypatch, tmp_path):
    """Scripted engines, two model directories and a fixed 12 J per measured window."""
    ScriptedEngine.built = []
    monkeypatch.setattr(llm_module, "VllmEngine", ScriptedEngine)

    class FixedReading:
        def __init__(self, label):
            self.label, self.joules, self.seconds, self.method, self.detail = label, 12.0, 2.0, "estimate", "fixed"

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(AnswerWriterResource, "_measure", lambda self, label: FixedReading(label))
    small, large = tmp_path / "small-model", tmp_path / "large-model"
    small.mkdir()
    large.mkdir()
    return small, large


def _writer(small: Path, large: Path | None = None, **config) -> AnswerWriterResource:
    return AnswerWriterResource(llm_backend="vllm", tier1_model_dir=str(small),
                                tier2_model_dir=str(large) if large else "", **config)


def _requests() -> list[AnswerRequest]:
    return example_requests(10, families=("kpi", "drivers", "ranking", "movers", "trend"))


def test_router_picks_the_cheapest_tier_that_fits(fake_engines):
    small, large = fake_engines
    requests = {r.family: r for r in _requests()}
    assert AnswerWriterResource().route(requests["drivers"]) == 0  # llm_backend none
    writer = _writer(small)
    assert [writer.route(requests[f]) for f in ("kpi", "drivers", "movers", "ranking")] == [0, 1, 1, 0]
    writer = _writer(small, large, llm_families=["drivers"], tier2_families=["movers"])
    assert [writer.route(requests[f]) for f in ("kpi", "drivers", "movers")] == [0, 1, 2]
    # Without a tier-2 model, tier-2 families go to the small model.
    assert _writer(small, tier2_families=["movers"]).route(requests["movers"]) == 1


def test_backend_none_writes_templates_without_a_model(fake_engines):
    report = AnswerWriterResource().write_answers(_requests())
    assert ScriptedEngine.built == [] and report.llm_calls == 0
    assert {d.tier for d in report.drafts} == {0}
    assert all(d.grounded and d.joules == 0 and d.energy_method == "none" for d in report.drafts)
    assert report.energy_method == "none" and report.model is None
    assert [d.text for d in report.drafts] == [r.template_text for r in _requests()]


def test_one_batched_call_and_grounded_narratives_are_kept(fake_engines):
    small, _ = fake_engines
    writer = _writer(small)
    requests = _requests()
    by_question = {r.question: r for r in requests}

    def script(prompt: str) -> str:
        request = next(r for q, r in by_question.items() if q in prompt)
        return reply(f"Revenue changed by {request.facts['delta_pct']}% on last month.")

    engine = writer.engine(1)
    engine.script = script
    report = writer.write_answers(requests)
    assert engine.calls == [4]  # drivers and movers: 4 of 10, one call
    assert report.llm_calls == 1 and report.parse_failures == report.grounding_failures == 0
    llm_drafts = [d for d in report.drafts if d.tier == 1]
    assert len(llm_drafts) == 4
    for draft in llm_drafts:
        assert draft.model == "small-model" and draft.grounded and draft.fallback_reason is None
        assert (draft.tokens_in, draft.tokens_out) == (100, 20)
        assert draft.joules == pytest.approx(12.0 / 4) and draft.energy_method == "estimate"
    assert all(d.tokens_in == 0 and d.joules == 0 for d in report.drafts if d.tier == 0)
    assert report.batch_joules == 12.0 and report.batch_seconds == 2.0
    assert [(b.kind, b.tier, b.items) for b in report.batches] == [("start-up", 1, 0), ("batch", 1, 4)]


def test_invented_numbers_unparseable_and_figure_free_replies_fall_back_to_templates(fake_engines):
    small, _ = fake_engines
    writer = _writer(small, llm_families=["drivers", "movers", "trend"])
    replies = iter([reply("Revenue jumped +20 % thanks to strong demand."),  # invented
                    '{"narrative": "Revenue rose because',                      # cut off
                    "Revenue rose, as the table shows.",                        # not JSON
                    reply("This is a list of items that moved the most."),     # no figure
                    reply("Revenue rose 2026 by"),                              # unfinished
                    reply("Up 12 % on 2025.")])
    writer.engine(1).script = lambda prompt: next(replies)
    requests = _requests()
    report = writer.write_answers(requests)
    assert report.parse_failures == 3 and report.grounding_failures == 3
    by_id = {r.answer_id: r for r in requests}
    for draft in report.drafts:
        assert draft.tier == 0 and draft.grounded and draft.model is None
        assert draft.text == by_id[draft.answer_id].template_text
    reasons = [d.fallback_reason for d in report.drafts if d.fallback_reason]
    assert reasons[0] == "tier 1: ungrounded (+20 %)"
    assert reasons[1] == reasons[2] == "tier 1: unparseable reply"
    assert reasons[3] == "tier 1: cites no figure from the facts"
    assert reasons[4] == "tier 1: no complete sentence"
    # The energy of refused attempts is still counted against the answers that spent it.
    assert sum(d.joules for d in report.drafts) == pytest.approx(report.batch_joules)


def test_figure_free_narratives_pass_when_not_required(fake_engines):
    small, _ = fake_engines
    writer = _writer(small, require_figure=False)
    writer.engine(1).script = lambda prompt: reply("Revenue rose, led by Furniture.")
    report = writer.write_answers(_requests())
    assert {d.tier for d in report.drafts if d.fallback_reason is None} == {0, 1}
    assert report.grounding_failures == 0


def test_failures_escalate_to_tier_two_in_one_more_batched_call(fake_engines):
    small, large = fake_engines
    writer = _writer(small, large, tier2_families=["movers"])
    small_engine, large_engine = writer.engine(1), writer.engine(2)
    small_engine.script = lambda prompt: reply("Revenue jumped 99.9%.")
    large_engine.script = lambda prompt: reply(
        "Revenue moved to " + re.search(r"this period (\$[\d,.]+\d)", prompt).group(1) + ".")
    report = writer.write_answers(_requests())
    assert small_engine.calls == [2] and large_engine.calls == [4]  # 2 movers + 2 escalated drivers
    assert report.llm_calls == 2 and report.grounding_failures == 2
    escalated = [d for d in report.drafts if d.fallback_reason]
    assert len(escalated) == 2
    for draft in escalated:
        assert draft.tier == 2 and draft.model == "large-model" and draft.grounded
        assert draft.fallback_reason == "tier 1: ungrounded (99.9%)"
        assert (draft.tokens_in, draft.tokens_out) == (200, 40)
        assert draft.joules == pytest.approx(12.0 / 2 + 12.0 / 4)
    assert report.model == "large-model, small-model"


def test_no_escalation_when_switched_off(fake_engines):
    small, large = fake_engines
    writer = _writer(small, large, escalate_to_tier2=False)
    writer.engine(1).script = lambda prompt: reply("Revenue jumped 99.9%.")
    report = writer.write_answers(_requests())
    assert report.llm_calls == 1 and {d.tier for d in report.drafts} == {0}


def test_an_ungrounded_template_is_flagged_not_hidden(fake_engines):
    request = replace(_requests()[0], template_text="Revenue was $1 billion.")
    draft = AnswerWriterResource().write_answers([request]).drafts[0]
    assert draft.tier == 0 and not draft.grounded


def test_live_baseline_answers_one_prompt_per_call(fake_engines):
    small, _ = fake_engines
    writer = _writer(small)
    requests = example_requests(12, families=("drivers", "kpi"))
    baseline = writer.measure_live_baseline(requests, sample=4)
    assert writer.engine(1).calls == [1, 1, 1, 1]
    assert baseline.answers == 4 and baseline.model == "small-model"
    assert baseline.joules_per_answer == pytest.approx(12.0 / 4)
    assert baseline.seconds_per_answer == pytest.approx(2.0 / 4) and baseline.method == "estimate"
    assert baseline.tokens_out == 4 * 20
    assert AnswerWriterResource().measure_live_baseline(requests).answers == 0


def test_engine_is_built_once_per_run_with_the_configured_settings(fake_engines):
    small, _ = fake_engines
    writer = _writer(small, max_tokens=33, temperature=0.2, kv_cache_gib=2)
    writer.write_answers(_requests())
    writer.write_answers(_requests())
    assert len(ScriptedEngine.built) == 1
    settings = ScriptedEngine.built[0].settings
    assert settings["max_tokens"] == 33 and settings["temperature"] == 0.2
    assert settings["dtype"] == "float32" and settings["kv_cache_gib"] == 2


def test_dagster_run_builds_the_engine_lazily_inside_the_asset(fake_engines):
    small, _ = fake_engines
    seen = {}

    @asset
    def answers(writer: AnswerWriterResource) -> None:
        seen["before"] = len(ScriptedEngine.built)
        report = writer.write_answers(_requests())
        seen["tiers"] = sorted({d.tier for d in report.drafts})

    assert materialize([answers], resources={"writer": _writer(small)}).success
    assert seen == {"before": 0, "tiers": [0, 1]}


def test_configuration_errors_say_what_to_do(fake_engines, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="llm_backend must be one of"):
        AnswerWriterResource(llm_backend="openai").route(_requests()[0])
    with pytest.raises(ModelNotPreparedError, match="offpeak prepare-model"):
        AnswerWriterResource(llm_backend="vllm", tier1_model_dir=str(tmp_path / "nope")).engine(1)
    monkeypatch.setenv("OFFPEAK_HOME", str(tmp_path / "home"))
    with pytest.raises(ModelNotPreparedError, match="offpeak prepare-model"):
        AnswerWriterResource(llm_backend="vllm").model_dir(1)
    hub_id = "HuggingFaceTB/SmolLM2-360M-Instruct"  # an id already in the local HF cache
    writer = AnswerWriterResource(llm_backend="vllm", tier2_model_dir=hub_id)
    assert writer.model_dir(2) == hub_id
