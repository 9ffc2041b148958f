"""Question understanding: the slots a question states, robust to synonyms, case and typos."""

from datetime import date

import pytest

from warehouse.understanding import understand

ASKED = date(2022, 11, 22)


@pytest.mark.parametrize("question, intent, expected", [
    ("What was revenue last month?", "revenue_total", {"period": "last_month"}),
    ("SALES LAST MONTH", "revenue_total", {"period": "last_month"}),
    ("turnover in the previous month", "revenue_total", {"period": "last_month"}),
    ("revnue last mnth", "revenue_total", {"period": "last_month"}),
    ("revnue lst month", "revenue_total", {"period": "last_month"}),
    ("profit prev qtr", "profit_total", {"period": "last_quarter"}),
    ("What percentage of orders were returned last month?", "return_rate_total", {"period": "last_month"}),
    ("rev yday", "revenue_total", {"period": "yesterday"}),
    ("How did we do yesterday?", "revenue_total", {"period": "yesterday"}),
    ("profit last week vs the week before", "profit_vs_prev", {"period": "last_week"}),
    ("profit lw wow", "profit_vs_prev", {"period": "last_week"}),
    ("margin this quarter compared with the same period last year", "margin_vs_last_year",
     {"period": "quarter_to_date"}),
    ("average order value year to date", "aov_total", {"period": "year_to_date"}),
    ("return rate last quarter", "return_rate_total", {"period": "last_quarter"}),
    ("top 10 products by profit last month", "top_products", {"n": 10, "metric": "profit"}),
    ("Which three states had the lowest sales last week?", "bottom_states", {"n": 3}),
    ("worst customers by revenue this year", "bottom_customers", {"period": "year_to_date"}),
    ("best sub-categories last month", "top_sub_categories", {"period": "last_month"}),
    ("weekly revenue trend", "trend_weekly", {"metric": "revenue"}),
    ("monthly profit trend", "trend_monthly", {"metric": "profit"}),
    ("sales by category year to date", "breakdown", {"dimension": "category"}),
    ("What share of revenue came from Technology last month?", "share_of_total",
     {"entity": {"column": "category", "value": "Technology"}}),
    ("biggest movers in profit last month", "biggest_movers", {"metric": "profit"}),
    ("why did furniture sales drop last week", "why_changed",
     {"filters": {"category": "Furniture"}, "period": "last_week"}),
    ("new vs returning customers last month", "new_vs_returning", {"period": "last_month"}),
    ("orders in October", "orders_total", {"period": "last_month"}),
])
def test_maps_questions_to_intent_and_parameters(question, intent, expected, entities):
    u = understand(question, entities, ASKED)
    assert u.intent_id == intent, u.describe()
    for key, value in expected.items():
        assert u.params[key] == value, u.describe()


@pytest.mark.parametrize("question, a_slot, b_question", [
    ("revenue in the West last month", "region", "revenue in the East last month"),
    ("revenue last month", "period", "revenue this month"),
    ("profit last month", "metric", "revenue last month"),
    ("top 5 products last month", "n", "top 10 products last month"),
])
def test_near_duplicates_are_different_instances(question, a_slot, b_question, entities):
    a, b = understand(question, entities, ASKED), understand(b_question, entities, ASKED)
    assert a.mapped and b.mapped
    assert a.key() != b.key()


def test_highest_and_lowest_are_different_intents(entities):
    top = understand("states with the highest sales last month", entities, ASKED)
    bottom = understand("states with the lowest sales last month", entities, ASKED)
    assert (top.intent_id, bottom.intent_id) == ("top_states", "bottom_states")


def test_scope_is_merged_and_contradictions_are_out_of_scope(entities):
    inside = understand("revenue in California last month", entities, ASKED, scope={"region": "West"})
    assert inside.params["filters"] == {"region": "West", "state": "California"}
    outside = understand("revenue in the East last month", entities, ASKED, scope={"region": "West"})
    assert not outside.mapped and "outside your scope" in outside.reason


@pytest.mark.parametrize("question, reason_part", [
    ("", "empty"),
    ("Who is the account manager for Mark Packer?", "no metric"),
    ("revenue", "no period"),
])
def test_unmapped_questions_say_why(question, reason_part, entities):
    u = understand(question, entities, ASKED)
    assert not u.mapped and reason_part in u.reason


def test_hostile_text_is_only_text(entities):
    u = understand("revenue last month'; DELETE FROM orders; -- <script>alert(1)</script>" * 50, entities, ASKED)
    assert u.intent_id == "revenue_total"
    assert len(u.question) <= 500
