"""The matcher serves only the very question asked, inside the asker's scope, or refuses."""

from datetime import date

import pytest

from warehouse.semantic.catalogue import CATALOGUE
from warehouse.language.matcher import PhrasingCache, match
from warehouse.storage.users import Scope, User

ASKED = date(2022, 11, 22)
WEST = User("west", "Sadie", "regional_manager", Scope.parse("region=West"))
VP = User("vp", "Vera", "vp_sales", Scope.parse("*"))

NIGHT = [
    ("rev_all", "revenue_total", {"period": "last_month", "filters": {}}),
    ("rev_west", "revenue_total", {"period": "last_month", "filters": {"region": "West"}}),
    ("rev_east", "revenue_total", {"period": "last_month", "filters": {"region": "East"}}),
    ("profit_west", "profit_total", {"period": "last_month", "filters": {"region": "West"}}),
    ("rev_west_mtd", "revenue_total", {"period": "month_to_date", "filters": {"region": "West"}}),
    ("top5_west", "top_products", {"period": "last_month", "metric": "revenue", "n": 5, "filters": {"region": "West"}}),
    ("bottom5_west", "bottom_products", {"period": "last_month", "metric": "revenue", "n": 5,
                                         "filters": {"region": "West"}}),
    ("rev_west_prev", "revenue_vs_prev", {"period": "last_month", "filters": {"region": "West"}}),
    ("why_east", "why_changed", {"period": "last_week", "metric": "revenue", "compare": "prev",
                                 "filters": {"region": "East"}}),
    ("trend6_west", "trend_weekly", {"metric": "revenue", "n": 6, "filters": {"region": "West"}}),
]


@pytest.fixture(scope="module")
def index(entities, embedder):
    entries = [(aid, intent, CATALOGUE[intent].bind(params)) for aid, intent, params in NIGHT]
    return PhrasingCache(embedder.encode).index(entries, entities)


def ask(index, embedder, user, question):
    return match(index, user, question, embedder.encode([question])[0], asked_on=ASKED)


@pytest.mark.parametrize("user, question, answer", [
    (WEST, "What was revenue in the West last month?", "rev_west"),
    (WEST, "sales last month", "rev_west"),
    (WEST, "turnover previous month", "rev_west"),
    (WEST, "profit last month", "profit_west"),
    (WEST, "revenue this month so far", "rev_west_mtd"),
    (WEST, "top 5 products by revenue last month", "top5_west"),
    (WEST, "which products sold the least last month", "bottom5_west"),
    (WEST, "how did revenue last month compare with the month before", "rev_west_prev"),
    (WEST, "revenue by week, last 6 weeks", "trend6_west"),
    (VP, "revenue last month", "rev_all"),
    (VP, "revenue in the East last month", "rev_east"),
    (VP, "why did revenue in the East change last week", "why_east"),
])
def test_serves_the_question_asked(index, embedder, user, question, answer):
    result = ask(index, embedder, user, question)
    assert result.hit, (result.understood, result.candidates)
    assert result.answer_id == answer


@pytest.mark.parametrize("user, question", [
    (WEST, "revenue in the East last month"),      # other region: out of scope
    (WEST, "top 10 products by revenue last month"),  # N differs from the top 5 computed
    (WEST, "margin last month"),                   # metric not computed
    (WEST, "revenue last quarter"),                # period not computed
    (WEST, "revenue in California last month"),    # a drill-down not computed
    (VP, "profit last month"),                     # only the West's profit exists
    (WEST, "who is the account manager for Mark Packer?"),
    (WEST, "Weekly revenue trend last 8 weeks asap"),  # 8 weeks, not the 6 computed (not understood)
    (WEST, "weekly revenue trend"),                # the default 12 weeks, not 6
])
def test_refuses_near_misses(index, embedder, user, question):
    result = ask(index, embedder, user, question)
    assert not result.hit, (result.answer_id, result.understood)
    assert result.queued_reason
    for candidate in result.candidates:
        assert candidate.refused_reason


def test_refusals_say_what_differs(index, embedder):
    result = ask(index, embedder, WEST, "top 10 products by revenue last month")
    assert any("n: asked 10, answer has 5" in c.refused_reason for c in result.candidates)


def test_never_leaks_outside_scope(index, embedder):
    questions = ["revenue last month", "revenue in the East last month", "why did revenue change last week",
                 "East revenue", "what happened in the East", "revenue everywhere last month",
                 "company-wide sales last month", "total revenue for all regions last month"]
    allowed = {aid for aid, _, params in NIGHT if params["filters"].get("region") == "West"}
    for question in questions:
        result = ask(index, embedder, WEST, question)
        assert result.answer_id in allowed | {None}
        assert all(c.answer_id in allowed for c in result.candidates)
