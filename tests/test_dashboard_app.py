"""Every dashboard page through ``streamlit.testing.v1.AppTest`` on a factory snapshot.

Identity comes from the identity-provider path (``at.user``) unless a test is about another
path; the Ask box's matcher is replaced by canned results here and used for real in
``test_dashboard_ask.py``.
"""

from __future__ import annotations

import functools
import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import streamlit as st
from streamlit.components.v2.component_manager import BidiComponentManager
from streamlit.testing.v1 import AppTest

from dashboard import identity
from dashboard.components import md_escape
from tests.snapshot_factory import DAGSTER_URL, build_snapshot
from warehouse.storage import serving
from warehouse.storage.paths import offpeak_paths
from warehouse.storage.events import spool_files
from warehouse.storage.question_log import MAX_QUESTION_CHARS
from warehouse.language.matcher import Candidate, MatchResult
from warehouse.storage.snapshot import open_snapshot

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"


@pytest.fixture(scope="module")
def factory(tmp_path_factory):
    return build_snapshot(tmp_path_factory.mktemp("dashboard"))


@pytest.fixture(autouse=True)
def _release_cached_connections():
    yield
    st.cache_resource.clear()


@pytest.fixture
def home(factory, monkeypatch):
    """The factory snapshot's home, with no identity source configured."""
    for name in ("OFFPEAK_DEMO_MODE", "OFFPEAK_TRUSTED_HEADER", "OFFPEAK_LIVE_LLM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OFFPEAK_HOME", str(factory.home))
    return factory


@functools.cache
def _components() -> BidiComponentManager:
    """One scan for installed Streamlit components, shared by every AppTest here.

    AppTest scans all installed distributions once per instance (~1.5 s in this venv).
    """
    manager = BidiComponentManager()
    manager.discover_and_register_components(start_file_watching=False)
    return manager


def new_app(script: Path = APP) -> AppTest:
    """An AppTest of ``script`` that reuses the shared component scan."""
    at = AppTest.from_file(str(script), default_timeout=30)
    at._bidi_component_manager = _components()
    return at


def open_app(user_id: str | None = None, page: str | None = None, **claims: str) -> AppTest:
    """Run the app signed in through the identity provider as ``user_id`` (or not signed in)."""
    at = new_app()
    if user_id is not None:
        at.user = {"is_logged_in": True, "sub": user_id, **claims}
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    """All text the main area and sidebar show, one element per line."""
    parts = []
    for kind in ("title", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        parts += [str(e.value) for e in at.get(kind)]
    return "\n".join(parts)


def chart_frames(at: AppTest) -> list[pd.DataFrame]:
    """The data of every Altair chart on the page."""
    return [pa.ipc.open_stream(c.proto.datasets[0].data.data).read_all().to_pandas()
            for c in at.get("vega_lite_chart")]


def spool_events(factory) -> list[dict]:
    events = []
    for f in sorted(offpeak_paths(factory.home).spool_dir.glob("*.jsonl")):
        events += [json.loads(line) for line in f.read_text().splitlines()]
    return events


@pytest.fixture
def clean_spool(home):
    for f in offpeak_paths(home.home).spool_dir.glob("*.jsonl"):
        f.unlink()
    return home


# --- no snapshot, identity ----------------------------------------------------------------------

def test_no_snapshot_page_says_how_to_run_the_first_night(tmp_path, monkeypatch):
    monkeypatch.setenv("OFFPEAK_HOME", str(tmp_path))
    monkeypatch.setenv("OFFPEAK_DEMO_MODE", "1")
    at = open_app()
    assert at.title[0].value == "No night published yet"
    assert [c.value for c in at.code] == ["make demo", "offpeak night"]
    assert md_escape(tmp_path / "snapshots") in texts(at)


def test_without_an_identity_source_nobody_gets_in(home):
    at = open_app()
    assert at.title[0].value == "Who are you?"
    assert "OFFPEAK_TRUSTED_HEADER" in at.error[0].value and "OFFPEAK_DEMO_MODE" in at.error[0].value
    assert not at.metric


def test_signed_in_user_missing_from_the_directory_gets_a_clear_message(home):
    at = open_app("mallory", email="mallory@example.com")
    assert "mallory@example\\.com" in at.error[0].value
    assert "not in Offpeak's users directory" in at.error[0].value
    assert not at.metric and "Good morning" not in texts(at)


def test_identity_provider_configured_but_logged_out_offers_log_in(home):
    at = new_app()
    at.user = {"is_logged_in": False}
    at.run()
    assert "Please log in" in at.error[0].value
    assert at.button[0].label == "Log in"


def test_identity_provider_email_claim_matches_user_id(home):
    at = new_app()
    at.user = {"is_logged_in": True, "email": "ERIN"}
    at.run()
    assert at.title[0].value == "Good morning, Erin"


def test_trusted_header_identifies_the_user_and_disables_the_picker(home, monkeypatch):
    monkeypatch.setenv("OFFPEAK_TRUSTED_HEADER", "X-Forwarded-Email")
    monkeypatch.setenv("OFFPEAK_DEMO_MODE", "1")
    monkeypatch.setattr(identity, "request_headers", lambda: {"x-forwarded-email": "erin"})
    at = open_app()
    assert at.title[0].value == "Good morning, Erin"
    assert not at.sidebar.selectbox and "Demo mode" not in texts(at)
    assert "(header X-Forwarded-Email)" in texts(at)


def test_trusted_header_missing_is_refused(home, monkeypatch):
    monkeypatch.setenv("OFFPEAK_TRUSTED_HEADER", "X-Forwarded-Email")
    monkeypatch.setattr(identity, "request_headers", lambda: {})
    at = open_app()
    assert "expects your identity in the `X-Forwarded-Email` header" in at.error[0].value


def test_demo_mode_says_so_and_offers_a_picker(home, monkeypatch):
    monkeypatch.setenv("OFFPEAK_DEMO_MODE", "1")
    at = open_app()
    assert "Demo mode" in at.sidebar.warning[0].value
    picker = at.sidebar.selectbox(key="demo_user")
    assert "Wes Turner · regional manager · region=West" in picker.options
    picker.select_index(picker.options.index("Wes Turner · regional manager · region=West")).run()
    assert at.title[0].value == "Good morning, Wes"


# --- briefing ------------------------------------------------------------------------------------

def test_briefing_shows_cards_in_rank_order_with_numbers_charts_and_reasons(home):
    at = open_app("wes")
    shown = texts(at)
    night = home.night
    assert at.title[0].value == "Good morning, Wes"
    assert f"**Briefing as of {night + timedelta(days=1):%a %d %b %Y}**" in shown
    assert f"data through {night:%a %d %b %Y}" in shown
    headlines = [m.value for m in at.markdown if m.value.startswith("#### ")]
    assert headlines == ["#### West revenue by category", "#### Top 3 West products",
                         "#### West consumer orders flat"]
    assert [(m.label, m.value, m.delta) for m in at.metric] == [
        ("Revenue", r"\$402,300", r"+3.2% (+\$12,400)"),
        ("Top product revenue", r"\$24,100", ""),
        ("Orders", "212", "no change"),
    ]
    assert md_escape("Technology led the West last month with $182,400; Furniture fell 8.0% "
                     "to $96,600.") in shown
    assert "**Why you see this:** You asked this 4 times in the last 30 days" in shown
    (bars,) = chart_frames(at)
    assert bars.to_dict("records")[0] == {"label": "Technology", "value": 182_400.0, "previous": 160_100.0}
    table = at.dataframe[0].value
    assert table["product"].tolist()[0] == "Canon imageCLASS 2200"
    assert "East" not in shown


def test_briefing_line_chart_and_kpi(home):
    at = open_app("vera")
    assert [m.value for m in at.markdown if m.value.startswith("#### ")] == [
        "#### Revenue up 12\\.2% last month", "#### East margin down 2\\.1 points"]
    (line,) = chart_frames(at)
    assert line["value"].tolist()[-1] == 1_234_567.0 and set(line["series"]) == {"revenue"}
    assert at.metric[1].value == "11.4%" and at.metric[1].delta == "-2.1 pts"


def test_briefing_records_each_view_once_per_session(clean_spool):
    at = open_app("wes")
    at.run()
    views = [e for e in spool_events(clean_spool) if e["kind"] == "view"]
    assert sorted(e["answer_id"] for e in views) == sorted(
        clean_spool.answer_ids[n] for n in ("west_by_category", "west_top_products", "west_consumer_orders"))
    assert {e["user_id"] for e in views} == {"wes"}


def test_briefing_never_shows_a_planted_out_of_scope_answer(tmp_path, monkeypatch):
    planted = build_snapshot(tmp_path, extra_briefings=[("wes", 4, "east_margin")])
    monkeypatch.setenv("OFFPEAK_HOME", str(planted.home))
    at = open_app("wes")
    assert len(at.metric) == 3
    assert "East margin" not in texts(at)


def test_stale_briefing_is_flagged(tmp_path, monkeypatch):
    old = build_snapshot(tmp_path, night=date.today() - timedelta(days=3))
    monkeypatch.setenv("OFFPEAK_HOME", str(old.home))
    at = open_app("erin")
    assert "This briefing is 2 day(s) old" in at.warning[0].value


def test_old_data_is_called_out(tmp_path, monkeypatch):
    lagging = build_snapshot(tmp_path, data_through=date.today() - timedelta(days=4))
    monkeypatch.setenv("OFFPEAK_HOME", str(lagging.home))
    at = open_app("erin")
    assert f"data through {date.today() - timedelta(days=4):%a %d %b %Y} (4 days before)" in texts(at)


# --- roles ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("user_id", "allowed", "refused"), [
    ("wes", [], ["app_pages/savings.py", "app_pages/pipeline.py"]),
    ("dan", ["app_pages/pipeline.py"], ["app_pages/savings.py"]),
    ("ada", ["app_pages/savings.py", "app_pages/pipeline.py"], []),
])
def test_operations_pages_follow_the_role(home, user_id, allowed, refused):
    at = open_app(user_id)
    for page in allowed:
        at.switch_page(page).run()
        assert not at.exception and not at.error
    for page in refused:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)


def test_admin_page_refuses_a_non_admin_even_when_run_directly(home):
    page = new_app(APP.parent / "app_pages" / "savings.py")
    with open_snapshot(home.snapshot) as con:
        wes = serving.find_user(con, "wes")
    page.session_state["_offpeak_identity"] = identity.Identity(wes, "test")
    page.run()
    assert "This page is for the admin role" in page.error[0].value
    assert not page.metric



# --- savings -------------------------------------------------------------------------------------

def test_savings_page_shows_totals_trends_and_labels_estimates(home):
    at = open_app("ada", page="app_pages/savings.py")
    metrics = {m.label: (m.value, m.delta) for m in at.metric}
    assert metrics["Live queries avoided"] == ("226", "")
    assert metrics["Hit rate"] == ("75%", "")
    assert metrics["Answers read / computed"] == ("159 / 210", "24% never read")
    assert metrics["Net energy saved (estimate)"] == ("28.94 Wh", "")
    assert metrics["Net CO₂ saved (estimate)"] == ("12.7 g", "")
    assert metrics["Net cost saved (estimate)"] == ("0.0096", "")
    shown = texts(at)
    assert "CPU time × a configured wattage" in shown
    assert md_escape("estimate: CPU time × configured W") in shown
    assert "**540 J**" in shown and md_escape("measured (RAPL CPU counter)") in shown
    assert "**33.90 Wh** live" in shown
    frames = chart_frames(at)
    assert len(frames) == 4
    assert frames[0]["hits"].sum() == 226
    assert set(frames[3]["measured"]) == {"pipeline · estimate: CPU time × configured W",
                                          "tier 0 · estimate: CPU time × configured W",
                                          "tier 1 · measured (RAPL CPU counter)"}
    per_night = at.dataframe[-1].value
    assert len(per_night) == 7 and per_night["hits"].sum() == 226


# --- pipeline ------------------------------------------------------------------------------------

def test_pipeline_page_shows_runs_window_quarantine_backlog_and_dagster(home):
    at = open_app("dan", page="app_pages/pipeline.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Last run"] == "success"
    assert metrics["Data through"] == f"{home.night:%a %d %b %Y}"
    shown = texts(at)
    assert "**Next scheduled window:**" in shown and md_escape("cheapest 3 h before") in shown
    (link,) = at.get("link_button")
    assert link.proto.url == DAGSTER_URL
    runs, _assets, freshness, quarantine, _sample, unmapped, backlog, learned = (d.value for d in at.dataframe)
    assert "failed" in set(runs["status"]) and runs.iloc[0]["status"] == "success"
    assert freshness.iloc[0]["asset"] == "orders"
    assert quarantine["rows"].tolist() == [2, 1]
    assert unmapped.iloc[0]["times_asked"] == 2
    assert set(backlog["status"]) == {"rejected", "accepted", "needs_review"}
    assert dict(zip(learned["question"], learned["reading"])) == {
        "West last month?": "total · revenue · last_month · region=West",
        "gimme revenue last month": "total · revenue · last_month"}
    assert not at.get("selectbox"), "only admins review learned phrasings"


def test_an_admin_rejects_a_learned_phrasing_through_the_spool(clean_spool):
    at = open_app("ada", page="app_pages/pipeline.py")
    (choice,) = at.selectbox
    choice.set_value("West last month?")
    next(b for b in at.button if b.label == "Reject").click().run()
    assert not at.exception, at.exception
    events = [json.loads(line) for f in spool_files(clean_spool.paths.spool_dir)
              for line in f.read_text().splitlines()]
    decisions = [(e["user_id"], e["kind"], e["question"]) for e in events if e["kind"].startswith("learned_")]
    assert decisions == [("ada", "learned_reject", "West last month?")]


# --- ask -----------------------------------------------------------------------------------------

def _fake_matcher(monkeypatch, result: MatchResult) -> list[tuple[str, str]]:
    calls: list[tuple[str, str]] = []

    def match_question(con, user, question, asked_on=None, index=None):
        calls.append((user.user_id, question))
        return result

    monkeypatch.setattr("warehouse.language.matcher.match_question", match_question)
    return calls


def ask(at: AppTest, question: str) -> AppTest:
    at.text_input[0].set_value(question)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def test_ask_hit_shows_the_stored_answer_without_a_live_query(clean_spool, monkeypatch):
    answer_id = clean_spool.answer_ids["west_by_category"]
    calls = _fake_matcher(monkeypatch, MatchResult(True, answer_id, 0.93, "breakdown · region=West"))
    at = ask(open_app("wes", page="app_pages/ask.py"), "revenue by category in the west last month")
    assert calls == [("wes", "revenue by category in the west last month")]
    assert at.success[0].value == "Answered last night, no live query (similarity 0.93)."
    assert "#### West revenue by category" in texts(at)
    assert at.metric[0].value == r"\$402,300"
    (hit,) = [e for e in spool_events(clean_spool) if e["kind"] != "view"]
    assert (hit["kind"], hit["user_id"], hit["answer_id"], hit["question"]) == (
        "hit", "wes", answer_id, "revenue by category in the west last month")


def test_ask_refused_match_shows_candidates_and_queues_the_question(clean_spool, monkeypatch):
    near = clean_spool.answer_ids["west_by_category"]
    _fake_matcher(monkeypatch, MatchResult(
        False, None, 0.78, "breakdown · period=last_quarter · region=West",
        [Candidate(near, "What was revenue by category last month in West?", 0.78,
                   "period: asked last_quarter, answer has last_month")],
        queued_reason="not pre-computed last night"))
    at = ask(open_app("wes", page="app_pages/ask.py"), "revenue by category last quarter")
    assert not at.success
    assert ("No safe match in last night's answers: " + md_escape("not pre-computed last night") + "."
            in texts(at))
    assert "Queued for tonight" in at.info[0].value
    assert md_escape("What was revenue by category last month in West?") + "** (similarity 0.78): " + \
        md_escape("period: asked last_quarter, answer has last_month") in texts(at)
    (miss,) = [e for e in spool_events(clean_spool) if e["kind"] != "view"]
    assert (miss["kind"], miss["question"], miss["answer_id"]) == ("miss", "revenue by category last quarter", None)


def test_ask_never_shows_a_match_outside_the_users_scope(clean_spool, monkeypatch):
    east = clean_spool.answer_ids["east_margin"]
    _fake_matcher(monkeypatch, MatchResult(True, east, 0.99, "margin_vs_prev · region=East"))
    at = ask(open_app("wes", page="app_pages/ask.py"), "east margin last month")
    assert not at.success and not at.metric
    assert "outside your scope" in at.warning[-1].value
    (miss,) = [e for e in spool_events(clean_spool) if e["kind"] != "view"]
    assert miss["kind"] == "miss" and miss["answer_id"] is None


def test_ask_handles_hostile_text_safely(clean_spool, monkeypatch):
    calls = _fake_matcher(monkeypatch, MatchResult(False, None, None, "not understood: no metric",
                                                   queued_reason="no metric or kind of question recognised"))
    hostile = ("<script>alert(1)</script> ![x](http://evil.example/t.png) $x$ '; DROP TABLE answers;--\x00"
               + "A" * 5000)
    at = ask(open_app("wes", page="app_pages/ask.py"), hostile)
    (_, asked), = calls
    assert len(asked) == MAX_QUESTION_CHARS and "\x00" not in asked and asked.startswith("<script>")
    you_asked = next(m.value for m in at.markdown if m.value.startswith("**You asked:**"))
    assert "\\<script\\>" in you_asked and "\\!\\[x\\]\\(http\\:" in you_asked and "\\$x\\$" in you_asked
    assert all(not m.proto.allow_html for m in at.markdown)
    (miss,) = [e for e in spool_events(clean_spool) if e["kind"] != "view"]
    assert miss["question"] == asked


def test_switching_user_in_demo_mode_drops_the_previous_answer(clean_spool, monkeypatch):
    monkeypatch.setenv("OFFPEAK_DEMO_MODE", "1")
    west = clean_spool.answer_ids["west_by_category"]
    _fake_matcher(monkeypatch, MatchResult(True, west, 0.95, "breakdown · region=West"))
    at = open_app()
    picker = at.sidebar.selectbox(key="demo_user")
    picker.select_index(picker.options.index("Wes Turner · regional manager · region=West")).run()
    at = ask(at.switch_page("app_pages/ask.py").run(), "west revenue by category last month")
    assert at.success
    picker = at.sidebar.selectbox(key="demo_user")
    picker.select_index(picker.options.index("Erin Cole · regional manager · region=East")).run()
    assert not at.success and not at.metric and "You asked" not in texts(at)


def test_live_answers_are_off_by_default_and_unavailable_when_requested(home, monkeypatch):
    _fake_matcher(monkeypatch, MatchResult(False, None, None, "", queued_reason="x"))
    at = open_app("wes", page="app_pages/ask.py")
    assert at.toggle[0].value is False and at.toggle[0].disabled
    assert "Live answers: off." in texts(at)
    monkeypatch.setenv("OFFPEAK_LIVE_LLM", "1")
    at.run()
    assert at.toggle[0].disabled
    assert "Live answers: unavailable." in texts(at) and "no live answerer" in texts(at)


def test_ask_lists_what_was_answered_in_scope(home):
    at = open_app("erin", page="app_pages/ask.py")
    answerable = at.dataframe[0].value
    assert answerable["question"].tolist() == [
        "How did profit margin last month compare with the period before in East?"]
