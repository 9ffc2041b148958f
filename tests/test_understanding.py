"""Question understanding: the slots a question states, robust to synonyms, case and typos."""

from datetime import date

import pytest

from warehouse.language.entities import EntityIndex
from warehouse.language.understanding import understand
from warehouse.semantic.catalogue import CATALOGUE

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
    # business shorthand
    ("How did sales for chairs L30D compare to last year please", "revenue_vs_last_year", {"period": "last_30_days"}),
    ("profit vs py last month", "profit_vs_last_year", {"period": "last_month"}),
    ("gimme number of orders last month asap", "orders_total", {"period": "last_month"}),
    ("Top 10 clients by order volume trailing 7 days pls", "top_customers", {"period": "last_7_days"}),
    ("how did gm% yesterday compare to py pls", "margin_vs_last_year", {"period": "yesterday"}),
    ("pls p&l ytd", "profit_total", {"period": "year_to_date"}),
    ("avg ticket so far this qtr", "aov_total", {"period": "quarter_to_date"}),
    ("avg $ per order this mnth", "aov_total", {"period": "month_to_date"}),
    ("items per order last week", "units_per_order_total", {"period": "last_week"}),
    ("orders last 30 days vs the 30 days before", "orders_vs_prev", {"period": "last_30_days"}),
    ("what did we bring in full year 2021", "revenue_total", {"period": "last_year"}),
    ("how many accounts placed an order last month", "customers_total", {"period": "last_month"}),
    ("new logos last month", "new_vs_returning", {"period": "last_month"}),
    ("how much did we book last month", "revenue_total", {"period": "last_month"}),
    ("did we make money this month", "profit_total", {"period": "month_to_date"}),
    ("break down $ sals by ship mode last week", "breakdown", {"dimension": "ship_mode", "metric": "revenue"}),
    # a dimension named after the metric's own words; a member word before a member
    ("items sold in October by region", "breakdown", {"dimension": "region", "metric": "quantity"}),
    ("top 5 items sold last month", "top_products", {"metric": "quantity", "n": 5}),
    ("units split across product categories this year", "breakdown", {"dimension": "category"}),
    ("profit by customer segment last month", "breakdown", {"dimension": "segment"}),
    ("$ sales split by subcat this quarter", "breakdown", {"dimension": "sub_category", "metric": "revenue"}),
    ("customer count shipped Standard Class yesterday", "customers_total",
     {"filters": {"ship_mode": "Standard Class"}}),
    ("sales in TX last week", "revenue_total", {"filters": {"state": "Texas"}}),
    ("What's CA number of customers yesterday", "customers_total", {"filters": {"state": "California"}}),
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


@pytest.mark.parametrize("question, scope, reason", [
    ("revenue in Texas last month", {"region": "West"}, "Texas is outside your scope (region=West; Texas is in Central)"),
    ("sales in Houston last week", {"region": "East"}, "Houston is outside your scope"),   # a city, two levels down
    ("Chairs revenue last month", {"category": "Technology"}, "Chairs is outside your scope"),
    ("revenue in Texas in the West last month", {}, "Texas is not in West"),
])
def test_a_member_under_another_member_of_the_scope_is_refused_not_filtered_to_nothing(
        entities, question, scope, reason):
    u = understand(question, entities, ASKED, scope=scope)
    assert not u.mapped and reason in u.reason


@pytest.mark.parametrize("question, scope, part, whole", [
    ("machines share of technology rev last thirty days", {"region": "East"}, "Machines", {"category": "Technology"}),
    ("what share of Technology revenue came from Machines last month", {}, "Machines", {"category": "Technology"}),
    ("West share of Furniture revenue last month", {}, "West", {"category": "Furniture"}),
    ("what share of furniture revenue came from the West last month", {}, "West", {"category": "Furniture"}),
    ("what share of revenue came from Texas last month", {}, "Texas", {}),
])
def test_share_reads_both_directions(entities, question, scope, part, whole):
    u = understand(question, entities, ASKED, scope=scope)
    assert u.intent_id == "share_of_total" and u.params["entity"]["value"] == part
    assert u.params["filters"] == {**scope, **whole}


@pytest.mark.parametrize("question, expected", [
    ("Sales so far this week vs same point last week", ("revenue_vs_prev", "this_week")),
    ("how did bottom line mtd compare to the same days last month", ("profit_vs_prev", "month_to_date")),
    ("revenue yesterday vs same day last year", ("revenue_vs_last_year", "yesterday")),
    ("revenue yesterday vs the same day last week", None),   # the day before is not the same day last week
    ("sales mtd vs same point last quarter", None),
])
def test_same_point_comparisons_are_the_previous_period_only_for_to_date_periods(entities, question, expected):
    u = understand(question, entities, ASKED)
    assert ((u.intent_id, u.params.get("period")) if u.mapped else None) == expected, u.describe()


@pytest.mark.parametrize("question, expected", [
    ("rev by week, last 6 weeks pls", ("trend_weekly", 6)),
    ("earnings trend over the last 3 months?", ("trend_monthly", 3)),
    ("revenue trend over the past six months", ("trend_monthly", 6)),
    ("monthly revenue trend", ("trend_monthly", 12)),
    ("revenue by week, last 6 months", None),        # a weekly trend over months: which points?
    ("weekly sales trend for the last 40 weeks", None),
    ("revenue last 6 weeks", None),                  # a total over 6 weeks is no period of the layer
])
def test_a_trend_says_how_many_points(entities, question, expected):
    u = understand(question, entities, ASKED)
    assert ((u.intent_id, u.params["n"]) if u.mapped else None) == expected, u.describe()


def test_ship_mode_same_day_is_a_member_but_same_day_last_year_a_comparison(entities):
    member = understand("Same Day revenue last month", entities, ASKED)
    assert member.params["filters"] == {"ship_mode": "Same Day"}
    comparison = understand("revenue yesterday vs same day last year", entities, ASKED)
    assert comparison.params["filters"] == {} and comparison.intent_id == "revenue_vs_last_year"
    via = understand("sales via Same Day last month", entities, ASKED)     # "via": the member, even before "last"
    assert via.params["filters"] == {"ship_mode": "Same Day"} and via.intent_id == "revenue_total"
    assert not understand("sales same day last month", entities, ASKED).mapped


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
    # closed world: the injected words are not a question's words, so nothing is served for them
    assert u.intent_id is None and "did not understand: delete, orders, script, alert" in u.reason
    assert len(u.question) <= 500
    clean = understand("revenue last month; please!", entities, ASKED)
    assert clean.intent_id == "revenue_total"


# Phrasings from an independent question log (not the bundled simulator): one case per class.
# Asked on Tuesday 22 Nov 2022: yesterday = Monday, last month = October, last quarter = Q3.
@pytest.mark.parametrize("question, scope, intent, expected", [
    # "the week that just ended" and friends
    ("Where did revenue land the week that just ended?", {}, "revenue_total", {"period": "last_week"}),
    ("profit for the month that just ended", {}, "profit_total", {"period": "last_month"}),
    ("orders last full week", {}, "orders_total", {"period": "last_week"}),
    ("sales the week that just endde", {}, "revenue_total", {"period": "last_week"}),
    # a named day is yesterday only when it is the day before the question
    ("What was order count on Monday?", {}, "orders_total", {"period": "yesterday"}),
    ("where did top line land on Mnoday", {}, "revenue_total", {"period": "yesterday"}),
    ("profit since Monday", {}, "profit_total", {"period": "this_week"}),
    # months, abbreviations and years named against the day asked
    ("Show me average order value Oct", {}, "aov_total", {"period": "last_month"}),
    ("Total profit for the month of October 2022?", {}, "profit_total", {"period": "last_month"}),
    ("revenue so far in November", {}, "revenue_total", {"period": "month_to_date"}),
    ("What was the profit margin in Q3?", {}, "margin_total", {"period": "last_quarter"}),
    ("Q4 revenue", {}, "revenue_total", {"period": "quarter_to_date"}),
    ("turnover in 2022 so far", {}, "revenue_total", {"period": "year_to_date"}),
    ("revenue in 2021", {}, "revenue_total", {"period": "last_year"}),
    # same period last year
    ("how does sales last week look vs LY", {}, "revenue_vs_last_year", {"period": "last_week"}),
    ("turnover last month against last year", {}, "revenue_vs_last_year", {"period": "last_month"}),
    ("Are we ahead of last year on revenue this year?", {}, "revenue_vs_last_year", {"period": "year_to_date"}),
    ("October revenue vs October last year", {}, "revenue_vs_last_year", {"period": "last_month"}),
    ("profit YTD compared to the year before", {}, "profit_vs_last_year", {"period": "year_to_date"}),
    # the previous period
    ("net profit last month against the previous month", {}, "profit_vs_prev", {"period": "last_month"}),
    ("How does turnover last week stack up against the prior week?", {}, "revenue_vs_prev",
     {"period": "last_week"}),
    ("How does October's revenue compare to September?", {}, "revenue_vs_prev", {"period": "last_month"}),
    # N with words between it and what is ranked
    ("list the 10 best performing customers last week by revenue", {}, "top_customers",
     {"n": 10, "period": "last_week"}),
    ("Which five SKUs had the most revenue last month?", {}, "top_products", {"n": 5}),
    ("least profitable states last month", {}, "bottom_states", {"metric": "profit"}),
    ("which sub-categories lost the most money last quarter", {}, "bottom_sub_categories",
     {"metric": "profit", "period": "last_quarter"}),
    ("the 10 most profitable products this year", {}, "top_products", {"n": 10, "metric": "profit"}),
    # movers without the word "movers"
    ("Which sub-categories changed the most last week in sales?", {}, "biggest_movers",
     {"dimension": "sub_category", "period": "last_week"}),
    ("biggest total sales swings by state last month", {}, "biggest_movers", {"dimension": "state"}),
    # "<dimension> breakdown / mix"
    ("Region breakdown of sales last week", {}, "breakdown", {"dimension": "region", "period": "last_week"}),
    ("segment mix of sales YTD", {}, "breakdown", {"dimension": "segment"}),
    # metrics and dimensions the default layer added (distinct customers, selling price, ship mode)
    ("Sales by ship mode last month", {}, "breakdown", {"dimension": "ship_mode", "period": "last_month"}),
    ("how many active customers last month", {}, "customers_total", {"period": "last_month"}),
    ("average selling price last quarter", {}, "asp_total", {"period": "last_quarter"}),
    ("top 5 states by unique customers last month", {}, "top_states", {"metric": "customers", "n": 5}),
    # restating the scope is not a dimension, and "top line" / "bottom line" are metrics
    ("tell me top line yday for my region", {"region": "West"}, "revenue_total", {"period": "yesterday"}),
    ("How were bottom line last week for the Central region?", {"region": "Central"}, "profit_total",
     {"period": "last_week"}),
    ("Sales by state in the West region last month", {}, "breakdown",
     {"dimension": "state", "filters": {"region": "West"}}),
    # share with "%", new customers as "accounts", verbs for revenue and profit
    ("What % of our revenue was Furniture last month", {}, "share_of_total",
     {"entity": {"column": "category", "value": "Furniture"}}),
    ("how many new accounts last quarter", {}, "new_vs_returning", {"period": "last_quarter"}),
    ("how much did we sell last week in the south?", {}, "revenue_total",
     {"period": "last_week", "filters": {"region": "South"}}),
    ("what did we earn the previous month", {}, "profit_total", {"period": "last_month"}),
    ("How did the West do last week?", {}, "revenue_total", {"filters": {"region": "West"}}),
    ("revenue per order last month", {}, "aov_total", {"period": "last_month"}),
    ("profit ratio last month", {}, "margin_total", {"period": "last_month"}),
])
def test_maps_independent_phrasings(question, scope, intent, expected, entities):
    u = understand(question, entities, ASKED, scope=scope)
    assert u.intent_id == intent, u.describe()
    for key, value in expected.items():
        assert u.params[key] == value, u.describe()


@pytest.mark.parametrize("question", [
    # a named day, month, quarter or year that is not exactly a supported period
    "sales on Friday", "revenue last Friday", "revenue on Monday last week", "sales in September",
    "revenue in October 2021", "revenue in October last year", "Q2 revenue", "Q3 2021 revenue",
    "revenue in 2020", "what was revenue on 14 November", "revenue between 1 and 15 November",
    "sales the week of 7 November", "revenue since October",
    # periods the catalogue has no token for, or two periods with no comparison between them
    "revenue for the week before last", "sales two weeks ago", "revenue next month", "sales today",
    "sales last month and this month",
    # things the catalogue does not hold: never served as their nearest neighbour
    "sales by postal code last month", "how many orders were shipped first class last week",
    "profit per order last quarter", "sales vs target last month", "How many customers placed orders last month?",
    "average daily sales last month", "quarterly revenue trend", "Break down the change in profit last week by state",
    # a direction with nothing to rank, or a count that is not the N
    "What was the highest revenue last month?", "the five weakest sates on earnings last month",
    "top customers last month, give me 8",
    # a typo equally close to two different measures is not guessed
    "total order valume yesterday",
    # a loss of revenue is a decline (movers), not the lowest revenue; no country dimension
    "which products lost the most revenue last month", "revenue in Canada last month",
    # an exclusion is not the filter it names; other statistics are not the catalogue's
    "revenue last month excluding furniture", "non-Technology sales last month",
    "revenue for all regions except West last month", "revenue outside the West last month",
    "what is the median order value last month", "average monthly revenue this year",
    # a threshold or a count beside the N is a number the catalogue cannot place
    "revenue over $1,000 last month", "top 5 customers with over 1000 orders last month",
    "orders above 50 last week", "pipeline last month", "how many orders were shipped Same Day last week",
])
def test_refuses_what_it_cannot_pin_down(question, entities):
    u = understand(question, entities, ASKED)
    assert not u.mapped, u.describe()


def test_new_vs_returning_facts_keep_the_question_instance(superstore, entities):
    """The backtest indexes answers by instance_key(intent, facts.params): computing the facts
    must not add parameters (it once added metric=revenue, so new-vs-returning never matched)."""
    from warehouse.semantic.catalogue import instance_key
    from warehouse.semantic.facts import compute_facts
    u = understand("new vs returning customers last month", entities, ASKED, scope={"region": "South"})
    facts = compute_facts(superstore, u.intent_id, u.params, ASKED)
    assert instance_key(facts.intent_id, facts.params) == u.key()


@pytest.mark.parametrize("question, n", [
    ("best account for san diego last month by total sales??", 1),
    ("who was the customer with the highest sales last month", 1),
    ("which state had the highest sales last month", 1),
    ("top product last week", 1),
    ("top customers last month", 5),
    ("top 3 customers last month", 3),
])
def test_a_singular_ranked_noun_asks_for_one(entities, question, n):
    u = understand(question, entities, asked_on=date(2022, 3, 23))
    assert u.mapped and CATALOGUE[u.intent_id].family == "ranking" and u.params["n"] == n, u.describe()


@pytest.mark.parametrize("question", ["best five accounst for sales quarter to date thx",
                                      "best account for san diego last month by total sales??"])
def test_accounts_as_a_noun_is_not_a_why_question(entities, question):
    u = understand(question, entities, asked_on=date(2022, 3, 23))
    assert u.intent_id == "top_customers", u.describe()
    assert understand("What accounts for the drop in sales last month?", entities,
                      asked_on=date(2022, 3, 23)).intent_id == "why_changed"


@pytest.mark.parametrize("question", ["total sales on 2018-05-31", "sales on 31.05.2018", "revenue 2018/5/31"])
def test_a_date_written_in_digits_is_not_read_as_its_year(entities, question):
    assert not understand(question, entities, asked_on=date(2018, 6, 1)).mapped


def test_a_slip_one_letter_from_a_metric_word_is_not_dropped_as_a_function_word(entities):
    u = understand("Top 10 clients by oder volume trailing 7 days pls", entities, asked_on=date(2022, 7, 1))
    assert not u.mapped and "oder" in u.reason          # "over"? "order"? not a guess


def test_a_member_alias_is_read_only_where_the_data_holds_the_member():
    ohio_only = EntityIndex({"state": ["Ohio"]})
    u = understand("sales in TX last week", ohio_only, ASKED)
    assert not u.mapped and "tx" in u.reason
    assert understand("sales in Ohio last week", ohio_only, ASKED).params["filters"] == {"state": "Ohio"}
