"""The Ask page with the real matcher and embedding model on a factory snapshot with embeddings."""

from __future__ import annotations

import pytest
import streamlit as st

from dashboard.components import md_escape
from tests.snapshot_factory import build_snapshot
from tests.test_dashboard_app import ask, open_app, spool_events, texts


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    return build_snapshot(tmp_path_factory.mktemp("ask"), embed=True)


@pytest.fixture
def home(embedded, monkeypatch):
    for name in ("OFFPEAK_DEMO_MODE", "OFFPEAK_TRUSTED_HEADER", "OFFPEAK_LIVE_LLM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OFFPEAK_HOME", str(embedded.home))
    yield embedded
    st.cache_resource.clear()


def test_real_matcher_serves_the_same_question_and_refuses_near_misses(home):
    at = open_app("wes", page="app_pages/ask.py")

    ask(at, "What was revenue by category last month in the West?")
    assert at.success[0].value.startswith("Answered last night, no live query")
    assert "#### West revenue by category" in texts(at)

    ask(at, "revenue by category last quarter")
    assert not at.success
    closest = next(m.value for m in at.markdown if m.value.startswith("- **"))
    assert closest.startswith("- **" + md_escape("What was revenue by category last month in West?"))
    assert md_escape("period: asked last_quarter, answer has last_month") in closest.splitlines()[0]

    ask(at, "How did profit margin last month compare with the period before in East?")
    assert not at.success and not at.metric
    assert "outside your scope" in at.warning[-1].value

    kinds = [(e["kind"], e["answer_id"]) for e in spool_events(home) if e["kind"] != "view"]
    assert kinds == [("hit", home.answer_ids["west_by_category"]), ("miss", None), ("miss", None)]


def test_real_matcher_lets_a_vp_read_a_regional_answer(home):
    at = ask(open_app("vera", page="app_pages/ask.py"), "top 3 products by revenue in the West last month")
    assert at.success and "#### Top 3 West products" in texts(at)
