"""The answer-writer cascade on scripted engines: routing, guarding, fallbacks, counts, energy.

The real vLLM path is in tests/test_llm_vllm.py; here the engine resource is
``ScriptedEngineResource`` (replies given as data) and the energy meter the real estimate on
scripted clocks (12 J and 2 s per window), so every branch of the cascade runs in milliseconds.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from dagster import asset, materialize

from pipelines.llm_models import ModelNotPreparedError
from pipelines.resources.build import build_resources
from pipelines.resources.llm import (AnswerWriterResource, ScriptedEngineResource, ScriptedReplies,
                                     VllmEngineResource, model_label)
from tests.llm_fixtures import example_requests, fixed_meter
from warehouse.night.answer_types import AnswerRequest
from warehouse.night.cascade import Cascade
from warehouse.night.prompting import format_number


def reply(text: str) -> str:
    return json.dumps({"narrative": text})


def _scripted(small: ScriptedReplies | None = None, large: ScriptedReplies | None = None,
              **config) -> AnswerWriterResource:
    """A writer over scripted engines: tier 1 ``small-model``, tier 2 ``large-model`` when given."""
    engines = ScriptedEngineResource(tier1=small or ScriptedReplies(model="small-model"), tier2=large)
    return AnswerWriterResource(llm=engines, **config)


def _cascade(small: ScriptedReplies | None = None, large: ScriptedReplies | None = None,
             **config) -> Cascade:
    """The writer's cascade, measured with the fixed 12 J / 2 s meter."""
    return _scripted(small, large, **config).build_cascade(meter=fixed_meter())


def _small(**script) -> ScriptedReplies:
    return ScriptedReplies(model="small-model", **script)


def _large(**script) -> ScriptedReplies:
    return ScriptedReplies(model="large-model", **script)


def _requests() -> list[AnswerRequest]:
    return example_requests(10, families=("kpi", "drivers", "ranking", "movers", "trend"))


def test_router_picks_the_cheapest_tier_that_fits():
    requests = {r.family: r for r in _requests()}
    assert AnswerWriterResource().route(requests["drivers"]) == 0  # no LLM engine
    writer = _scripted()
    assert [writer.route(requests[f]) for f in ("kpi", "drivers", "movers", "ranking")] == [0, 1, 1, 0]
    writer = _scripted(large=_large(), llm_families=["drivers"], tier2_families=["movers"])
    assert [writer.route(requests[f]) for f in ("kpi", "drivers", "movers")] == [0, 1, 2]
    # Without a tier-2 model, tier-2 families go to the small model.
    assert _scripted(tier2_families=["movers"]).route(requests["movers"]) == 1
    vllm = AnswerWriterResource(llm=VllmEngineResource(), tier2_families=["movers"])
    assert vllm.route(requests["movers"]) == 1 and vllm.cascade().built_tiers == []


def test_no_engine_writes_templates_without_a_model():
    writer = AnswerWriterResource()
    report = writer.write_answers(_requests())
    assert writer.cascade().built_tiers == [] and report.llm_calls == 0
    assert {d.tier for d in report.drafts} == {0}
    assert all(d.grounded and d.joules == 0 and d.energy_method == "none" for d in report.drafts)
    assert report.energy_method == "none" and report.model is None and report.batches == []
    assert [d.text for d in report.drafts] == [r.template_text for r in _requests()]


def test_one_batched_call_and_grounded_narratives_are_kept():
    requests = _requests()
    cascade = _cascade(_small(by_question={
        r.question: reply(f"Revenue changed by {r.facts['delta_pct']}% on last month.")
        for r in requests}))
    engine = cascade.engine(1)
    report = cascade.write_answers(requests)
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


def test_invented_numbers_unparseable_and_figure_free_replies_fall_back_to_templates():
    cascade = _cascade(_small(replies=[
        reply("Revenue jumped +20 % thanks to strong demand."),  # invented
        '{"narrative": "Revenue rose because',                      # cut off
        "Revenue rose, as the table shows.",                        # not JSON
        reply("This is a list of items that moved the most."),     # no figure
        reply("Revenue rose 2026 by"),                              # unfinished
        reply("Up 12 % on 2025.")]), llm_families=["drivers", "movers", "trend"])
    requests = _requests()
    report = cascade.write_answers(requests)
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


def test_figure_free_narratives_pass_when_not_required():
    cascade = _cascade(_small(default=reply("Revenue rose, led by Furniture.")), require_figure=False)
    report = cascade.write_answers(_requests())
    assert {d.tier for d in report.drafts if d.fallback_reason is None} == {0, 1}
    assert report.grounding_failures == 0


def test_failures_escalate_to_tier_two_in_one_more_batched_call():
    requests = _requests()
    cascade = _cascade(
        _small(default=reply("Revenue jumped 99.9%.")),
        _large(by_question={r.question: reply(
            "Revenue moved to " + format_number(r.facts["value"], "value", "$") + ".")
            for r in requests}),
        tier2_families=["movers"])
    small_engine, large_engine = cascade.engine(1), cascade.engine(2)
    report = cascade.write_answers(requests)
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


def test_no_escalation_when_switched_off():
    cascade = _cascade(_small(default=reply("Revenue jumped 99.9%.")), _large(),
                       escalate_to_tier2=False)
    report = cascade.write_answers(_requests())
    assert report.llm_calls == 1 and {d.tier for d in report.drafts} == {0}
    assert cascade.built_tiers == [1]


def test_an_ungrounded_template_is_flagged_not_hidden():
    request = replace(_requests()[0], template_text="Revenue was $1 billion.")
    draft = AnswerWriterResource().write_answers([request]).drafts[0]
    assert draft.tier == 0 and not draft.grounded


def test_live_baseline_answers_one_prompt_per_call():
    cascade = _cascade()
    requests = example_requests(12, families=("drivers", "kpi"))
    baseline = cascade.measure_live_baseline(requests, sample=4)
    assert cascade.engine(1).calls == [1, 1, 1, 1]
    assert baseline.answers == 4 and baseline.model == "small-model"
    assert baseline.joules_per_answer == pytest.approx(12.0 / 4)
    assert baseline.seconds_per_answer == pytest.approx(2.0 / 4) and baseline.method == "estimate"
    assert baseline.tokens_out == 4 * 20
    assert AnswerWriterResource().measure_live_baseline(requests).answers == 0


def test_scripted_replies_match_the_question_first_then_run_in_order_then_default():
    requests = example_requests(3, families=("drivers",))
    engine = ScriptedEngineResource(tier1=ScriptedReplies(
        model="s", by_question={requests[1].question: "for the second"},
        replies=["first in order"], default="the rest", tokens_in=7, tokens_out=3)).build_engine(1)
    cascade = Cascade(None, fixed_meter())
    conversations = [[{"role": "user", "content": r.question}] for r in requests]
    completions = engine.chat(conversations)
    assert [c.text for c in completions] == ["first in order", "for the second", "the rest"]
    assert [(c.tokens_in, c.tokens_out) for c in completions] == [(7, 3)] * 3
    assert engine.calls == [3] and engine.model == "s"
    assert cascade.route(requests[0]) == 0 and not cascade.serves(1)


def test_engine_is_built_once_per_run():
    writer = _scripted()
    first = writer.write_answers(_requests())
    second = writer.write_answers(_requests())
    assert [b.kind for b in first.batches] == ["start-up", "batch"]
    assert [b.kind for b in second.batches] == ["batch"]
    assert writer.cascade().built_tiers == [1] and writer.engine(1) is writer.engine(1)


def test_vllm_engines_get_the_configured_settings(tmp_path):
    small = tmp_path / "small-model"
    small.mkdir()
    engines = VllmEngineResource(tier1_model_dir=str(small), max_tokens=33, temperature=0.2,
                                 kv_cache_gib=2)
    settings = engines.settings(1)
    assert settings.max_tokens == 33 and settings.temperature == 0.2
    assert settings.dtype == "float32" and settings.kv_cache_gib == 2
    assert settings.model == str(small) and model_label(settings.model) == "small-model"
    assert engines.serves(1) and not engines.serves(2)


def test_dagster_run_builds_the_engine_lazily_inside_the_asset_once_per_run():
    seen: list[dict] = []

    @asset
    def answers(writer: AnswerWriterResource) -> None:
        before = writer.cascade().built_tiers
        report = writer.write_answers(_requests())
        seen.append({"before": before, "tiers": sorted({d.tier for d in report.drafts}),
                     "start-ups": sum(b.kind == "start-up" for b in report.batches)})

    writer = _scripted()
    assert materialize([answers], resources={"writer": writer}).success
    assert materialize([answers], resources={"writer": writer}).success
    assert seen == [{"before": [], "tiers": [0, 1], "start-ups": 1}] * 2


def test_build_resources_picks_the_engine_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("OFFPEAK_LLM", raising=False)
    assert build_resources(str(tmp_path))["answer_writer"].llm is None
    monkeypatch.setenv("OFFPEAK_LLM", "vllm")
    monkeypatch.setenv("OFFPEAK_LLM_MODEL", str(tmp_path / "model"))
    engines = build_resources(str(tmp_path))["answer_writer"].llm
    assert isinstance(engines, VllmEngineResource)
    assert engines.tier1_model_dir == str(tmp_path / "model")


def test_configuration_errors_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("OFFPEAK_LLM", "openai")
    with pytest.raises(ValueError, match="OFFPEAK_LLM must be one of"):
        build_resources(str(tmp_path))
    with pytest.raises(ModelNotPreparedError, match="offpeak prepare-model"):
        AnswerWriterResource(llm=VllmEngineResource(tier1_model_dir=str(tmp_path / "nope"))).engine(1)
    monkeypatch.setenv("OFFPEAK_HOME", str(tmp_path / "home"))
    with pytest.raises(ModelNotPreparedError, match="offpeak prepare-model"):
        VllmEngineResource().model_dir(1)
    hub_id = "HuggingFaceTB/SmolLM2-360M-Instruct"  # an id already in the local HF cache
    assert VllmEngineResource(tier2_model_dir=hub_id).model_dir(2) == hub_id
    with pytest.raises(ValueError, match="no scripted replies for tier 2"):
        ScriptedEngineResource().build_engine(2)
    with pytest.raises(ValueError, match="no LLM tier is configured"):
        AnswerWriterResource().engine(1)
    assert model_label(hub_id) == hub_id
