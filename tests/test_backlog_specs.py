"""The backlog's query specs: verification (closed world), the mixed batch, and a whole night that
answers a backlog question overnight, keeps it as a learned phrasing, and lets an admin approve one.

The LLM tier is the scripted engine (replies given as data): what is under test is what the
product does with a reply, not what a model writes (bench/specs measures SmolLM2 on real questions).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dagster import DagsterInstance

from pipelines.resources.llm import (
    AnswerWriterResource,
    ScriptedEngineResource,
    ScriptedReplies,
)
from tests.llm_fixtures import example_requests, fixed_meter
from tests.nights import night_runner
from warehouse.demo.orders import write_orders
from warehouse.language.matcher import AnswerIndex, match_question
from warehouse.language.query_spec import (
    QuerySpec,
    SpecError,
    learned_index,
    spec_schema,
    to_instance,
    understand_with_learned,
    verify,
)
from warehouse.night.cascade import Cascade, ExtraPrompt
from warehouse.storage.events import Event, append_events
from warehouse.storage.paths import OffpeakPaths, offpeak_paths
from warehouse.storage.snapshot import open_snapshot
from warehouse.storage.users import User, read_users

ASKED = date(2026, 11, 20)


def _spec(**fields) -> QuerySpec:
    return QuerySpec.from_dict(fields)


TEXAS_LAST_MONTH = _spec(shape="total", metric="revenue", period="last_month",
                         filters=[{"dimension": "state", "value": "Texas"}])


# --- verification ------------------------------------------------------------------------------

def test_a_spec_agreeing_with_every_slot_and_word_is_accepted_and_round_trips(entities):
    verdict = verify(TEXAS_LAST_MONTH, "Texas last month?", entities, asked_on=ASKED, scope={})
    assert verdict.status == "accepted", verdict.reason
    u = verdict.understanding
    assert u.origin == "learned" and u.intent_id == "revenue_total"
    assert u.params["filters"] == {"state": "Texas"} and u.params["period"] == "last_month"


@pytest.mark.parametrize("question, spec, reason", [
    # the question states another period / metric / member than the spec
    ("Texas last week?", TEXAS_LAST_MONTH, "the question says period last_week"),
    ("Texas last month?", _spec(shape="total", metric="profit", period="last_month",
                                filters=[{"dimension": "state", "value": "Texas"}]), "metric profit is not said"),
    ("Texas last month?", _spec(shape="total", metric="revenue", period="last_month"), "members"),
    # a period the question never says is a guess
    ("Texas?", _spec(shape="total", metric="revenue", period="last_month",
                     filters=[{"dimension": "state", "value": "Texas"}]), "no period is said"),
    # a member the warehouse does not have, and a shape the layer cannot answer
    ("Atlantis last month?", _spec(shape="total", metric="revenue", period="last_month",
                                   filters=[{"dimension": "state", "value": "Atlantis"}]), "not members"),
    ("Texas last month?", _spec(shape="none"), "no query of the semantic layer"),
    # a ranking needs its direction said
    ("states last month", _spec(shape="top_n", metric="revenue", period="last_month", dimension="state"),
     "no direction"),
])
def test_a_spec_that_contradicts_or_guesses_is_rejected_with_the_reason(entities, question, spec, reason):
    verdict = verify(spec, question, entities, asked_on=ASKED, scope={})
    assert verdict.status == "rejected" and reason in verdict.reason and verdict.understanding is None


def test_a_member_outside_the_askers_scope_is_rejected(entities):
    verdict = verify(TEXAS_LAST_MONTH, "Texas last month?", entities, asked_on=ASKED, scope={"region": "West"})
    assert verdict.status == "rejected" and "outside" in verdict.reason and "Texas" in verdict.reason


def test_words_the_layer_does_not_know_need_an_admin_and_never_pass_alone(entities):
    spec = _spec(shape="total", metric="revenue", period="last_month")
    verdict = verify(spec, "gross revenue last month", entities, asked_on=ASKED, scope={})
    assert verdict.status == "needs_review" and "gross" in verdict.reason
    approved = verify(spec, "gross revenue last month", entities, asked_on=ASKED, scope={}, reviewed=True)
    assert approved.accepted and approved.understanding.key() is not None
    # a review waives only the word check: a contradiction stays refused
    wrong = verify(_spec(shape="total", metric="profit", period="last_month"), "gross revenue last month",
                   entities, asked_on=ASKED, scope={}, reviewed=True)
    assert wrong.status == "rejected"


@pytest.mark.parametrize("reply, problem", [
    ("not json", "not JSON"), ("[1]", "not a JSON object"),
    ('{"shape": "total", "metric": "turnover"}', "metric 'turnover'"),
    ('{"shape": "total", "n": 0}', "n 0"), ('{"shape": "total", "sql": "DROP TABLE x"}', "unknown fields"),
    ('{"shape": "total", "filters": [{"dimension": "planet", "value": "Mars"}]}', "filters dimension"),
])
def test_a_reply_that_is_not_a_spec_of_the_layer_is_named(reply, problem):
    with pytest.raises(SpecError, match=problem):
        QuerySpec.from_json(reply)


def test_the_schema_offers_only_the_members_the_question_names():
    schema = spec_schema([("state", "Texas")])
    member = schema["properties"]["filters"]["items"]["properties"]
    assert member["value"]["enum"] == ["Texas"] and member["dimension"]["enum"] == ["state"]
    assert spec_schema([])["properties"]["filters"]["maxItems"] == 0
    assert "none" in schema["properties"]["shape"]["enum"]
    assert set(schema["required"]) == set(schema["properties"])


def test_a_spec_round_trips_through_its_json_and_its_instance():
    again = QuerySpec.from_json(TEXAS_LAST_MONTH.to_json())
    assert again == TEXAS_LAST_MONTH and to_instance(again)[0] == "revenue_total"


def test_a_learned_phrasing_is_reverified_for_each_asker(entities):
    rows = [pd.Series({"question": "Texas last month?", "spec": TEXAS_LAST_MONTH.to_json(),
                       "status": "accepted", "model": "m", "learned_night": ASKED})]
    learned = learned_index(rows)
    served = understand_with_learned("texas  LAST month?", entities, ASKED, {}, learned)
    assert served.mapped and served.origin == "learned"
    outside = understand_with_learned("Texas last month?", entities, ASKED, {"region": "West"}, learned)
    assert not outside.mapped and "learned reading does not hold" in outside.reason
    rejected = learned_index([rows[0].copy().replace("accepted", "rejected_by_admin")])
    assert rejected == {}


# --- the mixed batch -----------------------------------------------------------------------------

def test_spec_prompts_ride_in_the_narratives_batch_with_their_own_schema():
    requests = example_requests(4)
    engines = ScriptedEngineResource(tier1=ScriptedReplies(by_question={"Texas": TEXAS_LAST_MONTH.to_json()}))
    seen: list[list] = []

    class Recording:
        def serves(self, tier):
            return engines.serves(tier)

        def build_engine(self, tier):
            engine = engines.build_engine(tier)
            chat = engine.chat

            def recorded(conversations, schemas=None):
                seen.append(list(schemas or []))
                return chat(conversations, schemas)
            engine.chat = recorded
            return engine

    extra = ExtraPrompt("u1|Texas last month?", [{"role": "user", "content": "Question: Texas last month?"}],
                        spec_schema([("state", "Texas")]))
    report = Cascade(Recording(), fixed_meter()).write_answers(requests, [extra])
    assert report.llm_calls == 1 and len(seen) == 1
    routed = sum(1 for s in seen[0] if s is None)
    assert seen[0][-1] == extra.schema and routed == len(seen[0]) - 1 >= 1
    assert QuerySpec.from_json(report.extra_replies[extra.prompt_id].text) == TEXAS_LAST_MONTH
    assert 0 < report.extra_joules < report.batch_joules


def test_without_an_llm_tier_the_backlog_is_not_sent():
    extra = ExtraPrompt("p", [{"role": "user", "content": "x"}], spec_schema([]))
    report = Cascade(None, fixed_meter()).write_answers(example_requests(2), [extra])
    assert report.extra_replies == {} and report.llm_calls == 0


# --- a whole night ---------------------------------------------------------------------------------

NIGHT = date(2026, 11, 20)
Q_ACCEPTED = "Texas last month?"
Q_REVIEW = "gross revenue last month"
Q_NONSENSE = "what is the meaning of life"
USERS = "user_id,name,role,scope,access\nvp,Vera P,vp_sales,*,\nwest,Will W,regional_manager,region=West,\n" \
        "ops,Ada Min,admin,*,admin\n"


@dataclass(frozen=True)
class Nights:
    paths: OffpeakPaths
    first: Path
    second: Path


def _writer() -> AnswerWriterResource:
    replies = {Q_ACCEPTED: TEXAS_LAST_MONTH.to_json(),
               Q_REVIEW: _spec(shape="total", metric="revenue", period="last_month").to_json(),
               Q_NONSENSE: _spec(shape="none").to_json()}
    return AnswerWriterResource(llm=ScriptedEngineResource(tier1=ScriptedReplies(
        model="scripted-small", by_question={f"Question: {q}": r for q, r in replies.items()})))


@pytest.fixture(scope="module")
def nights(tmp_path_factory) -> Nights:
    """Night N-1 with three backlog questions; an admin approves one; night N."""
    paths = offpeak_paths(tmp_path_factory.mktemp("backlog-home")).ensure()
    paths.users_csv.write_text(USERS, encoding="utf-8")
    write_orders(paths, n_lines=4_000, end_date=NIGHT + timedelta(days=1), years=2)
    earlier = NIGHT - timedelta(days=1)
    log = pd.DataFrame([("vp", f"{earlier}T09:00:00", Q_ACCEPTED), ("vp", f"{earlier}T09:05:00", Q_REVIEW),
                        ("west", f"{earlier}T10:00:00", Q_ACCEPTED), ("vp", f"{earlier}T11:00:00", Q_NONSENSE),
                        ("vp", f"{earlier - timedelta(days=3)}T09:00:00", "revenue last week")],
                       columns=["user_id", "asked_at", "question"])
    log.to_csv(paths.question_log_dir / "log.csv", index=False)
    with DagsterInstance.ephemeral() as instance:
        night = night_runner(paths, _writer(), instance)

        first = night(earlier)
        append_events(paths.spool_dir, [Event(user_id="ops", kind="learned_approve", question=Q_REVIEW,
                                              at=datetime.combine(NIGHT, datetime.min.time()).isoformat())])
        second = night(NIGHT)
    return Nights(paths, first, second)


def _read(path: Path, sql: str) -> list[tuple]:
    con = open_snapshot(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.slow
def test_the_night_verifies_each_backlog_reply_and_answers_the_accepted_overnight(nights):
    results = {(u, q): (s, r, a) for u, q, s, r, a in _read(
        nights.first, "SELECT user_id, question, status, reason, answer_id FROM backlog_results")}
    assert results[("vp", Q_ACCEPTED)][0] == "accepted" and results[("vp", Q_ACCEPTED)][2]
    west = results[("west", Q_ACCEPTED)]
    assert west[0] == "rejected" and "outside" in west[1] and west[2] is None    # Texas is not in the West
    assert results[("vp", Q_REVIEW)][0] == "needs_review" and "gross" in results[("vp", Q_REVIEW)][1]
    assert results[("vp", Q_NONSENSE)][0] == "rejected"
    answer_id = results[("vp", Q_ACCEPTED)][2]
    card = _read(nights.first, f"SELECT rank, reasons FROM briefings WHERE user_id = 'vp' AND answer_id = '{answer_id}'")
    assert card and card[0][0] == 1 and "answered overnight" in json.loads(card[0][1])[0]
    params = json.loads(_read(nights.first, f"SELECT params FROM answers WHERE answer_id = '{answer_id}'")[0][0])
    assert params["filters"] == {"state": "Texas"} and params["period"] == "last_month"


@pytest.mark.slow
def test_the_pass_rates_are_published_per_night(nights):
    rows = {k: (r, p, kept) for k, r, p, kept in _read(nights.first, "SELECT kind, replies, parsed, kept FROM llm_quality")}
    assert rows["query_spec"] == (4, 4, 1)
    assert rows["narrative"][0] >= 1 and rows["narrative"][1] <= rows["narrative"][0]


@pytest.mark.slow
def test_learned_phrasings_serve_the_next_day_at_zero_model_cost_and_admins_decide(nights):
    learned = {q: (s, d) for q, s, d in _read(nights.second, "SELECT question, status, decided_by FROM learned_phrasings")}
    assert learned[Q_ACCEPTED] == ("accepted", None) and learned[Q_REVIEW] == ("approved", "ops")
    tried = {q for (q,) in _read(nights.second, f"SELECT question FROM backlog_results WHERE night = '{NIGHT}'")}
    assert Q_ACCEPTED not in tried      # a text tried once is not sent to the model again
    users = {u.user_id: u for u in read_users(nights.paths.users_csv)}
    con = open_snapshot(nights.second)
    try:
        index = AnswerIndex.from_snapshot(con)
        approved = match_question(con, users["vp"], Q_REVIEW, asked_on=NIGHT + timedelta(days=1), index=index)
        outside = match_question(con, users["west"], Q_ACCEPTED, asked_on=NIGHT + timedelta(days=1), index=index)
    finally:
        con.close()
    assert approved.understanding.mapped and approved.understanding.origin == "learned"
    assert not outside.understanding.mapped and not outside.hit


def test_users_fixture_is_valid(tmp_path):
    path = tmp_path / "users.csv"
    path.write_text(USERS, encoding="utf-8")
    assert [u.user_id for u in read_users(path)] == ["vp", "west", "ops"]
    assert isinstance(read_users(path)[2], User) and read_users(path)[2].may("admin")


def test_the_index_holds_only_usable_learned_phrasings_and_none_without_the_table(tmp_path):
    from tests.snapshot_factory import build_snapshot
    from warehouse.language.query_spec import learned_key
    from warehouse.semantic.facts import build_sales_facts
    from warehouse.storage.schema import migrate
    factory = build_snapshot(tmp_path)
    con = duckdb.connect(str(factory.snapshot), read_only=True)
    try:
        assert set(AnswerIndex.from_snapshot(con).learned) == {learned_key("West last month?")}  # not needs_review
    finally:
        con.close()
    working = duckdb.connect()
    migrate(working)
    build_sales_facts(working)      # a working warehouse: no learned_phrasings table
    assert AnswerIndex.from_connection(working).learned == {}
