"""The question catalogue: its intents, phrasings, parameter validation, keys and SQL safety."""

from __future__ import annotations

import re
from datetime import date
from typing import Any


from tests.conftest import superstore_connection
import pytest

from warehouse.storage.canonical import DIMENSION_COLUMNS
from warehouse.semantic.catalogue import (
    CATALOGUE, METRICS, PERIOD_PHRASES, RANK_DIMENSIONS, answer_id_for, instance_key, phrase,
    validate_params,
)
from warehouse.semantic.facts import compute_facts
from warehouse.semantic.periods import PERIODS

NOV = date(2022, 11, 22)
INJECTIONS = [
    "West'; DROP TABLE orders; --",
    "West' OR '1'='1",
    "x\"; DROP TABLE sales_facts; --",
    "'; DELETE FROM orders WHERE ''='",
]


# ------------------------------------------------------------------------------------------------
# the catalogue itself
# ------------------------------------------------------------------------------------------------


def test_catalogue_has_at_least_30_intents_in_every_family():
    assert len(CATALOGUE) >= 30
    # 11 metrics x 3 comparisons, 4 ranked dimensions x 2 directions, 7 other shapes
    assert len(CATALOGUE) == 48
    assert {i.family for i in CATALOGUE.values()} == {
        "kpi", "ranking", "trend", "breakdown", "share", "movers", "drivers", "customers"}
    for intent_id, intent in CATALOGUE.items():
        assert intent.intent_id == intent_id
        assert re.fullmatch(r"[a-z][a-z0-9_]*", intent_id), intent_id
        assert len(intent.phrasings) >= 2 and len(set(intent.phrasings)) == len(intent.phrasings)
        assert set(intent.free) <= {"period", "n", "metric", "dimension", "entity", "compare"}


def test_every_metric_has_three_kpi_intents():
    for name in METRICS:
        for suffix, compare in (("total", "none"), ("vs_prev", "prev"), ("vs_last_year", "yoy")):
            intent = CATALOGUE[f"{name}_{suffix}"]
            assert intent.family == "kpi"
            assert intent.fixed == {"metric": name, "compare": compare}


def test_bind_fixed_wins_then_given_then_defaults():
    kpi = CATALOGUE["revenue_total"]
    bound = kpi.bind({"metric": "profit", "period": "last_month", "compare": "yoy"})
    assert bound == {"metric": "revenue", "compare": "none", "period": "last_month", "filters": {}}
    top = CATALOGUE["top_products"]
    assert top.bind({"period": "last_week"}) == {
        "n": 5, "metric": "revenue", "period": "last_week", "dimension": "product", "direction": "top",
        "filters": {}}
    assert top.bind({"period": "last_week", "n": None, "metric": "margin"})["n"] == 5   # None = not given
    assert top.bind({"period": "last_week", "n": 3, "metric": "margin"})["metric"] == "margin"
    assert top.bind({"period": "last_week", "filters": {"region": "West"}})["filters"] == {"region": "West"}


# ------------------------------------------------------------------------------------------------
# phrasings
# ------------------------------------------------------------------------------------------------


def sample_params(intent) -> list[dict[str, Any]]:
    """A few parameter sets for an intent, covering each free parameter and a scope."""
    out = []
    for period, n, metric, dim, filters in (
            ("last_month", 5, "revenue", "category", {}),
            ("year_to_date", 3, "margin", "sub_category", {"region": "West"}),
            ("yesterday", 10, "return_rate", "customer", {"category": "Furniture", "region": "East"})):
        params: dict[str, Any] = {"filters": filters}
        if "period" in intent.free:
            params["period"] = period
        if "n" in intent.free:
            params["n"] = n
        if "metric" in intent.free:
            params["metric"] = metric
        if "dimension" in intent.free:
            params["dimension"] = dim
        if "entity" in intent.free:
            params["entity"] = {"column": "state", "value": "California"}
        out.append(intent.bind(params))
    return out


@pytest.mark.parametrize("intent_id", sorted(CATALOGUE))
def test_every_phrasing_renders(intent_id):
    intent = CATALOGUE[intent_id]
    for params in sample_params(intent):
        validate_params(intent, params)
        seen = set()
        for variant, template in enumerate(intent.phrasings):
            text = phrase(intent, params, variant)
            assert text and text == text.strip(), (variant, text)
            assert not re.search(r"[{}]", text), text
            assert "  " not in text, text
            assert text[0].isupper(), text
            if "{metric}" in template:
                assert METRICS[params["metric"]].label.lower() in text.lower(), text
            if "{period}" in template and "period" in params:
                assert PERIOD_PHRASES[params["period"]] in text, text
            if "{n}" in template:
                assert str(params["n"]) in text, text
            if "{entity}" in template:
                assert "California" in text, text
            if "{dimension}" in template:
                assert params["dimension"].replace("_", "-") in text, text
            if "{dimension_plural}" in template:
                assert RANK_DIMENSIONS[params["dimension"]][1] in text, text
            for value in params["filters"].values():
                assert f"{value}" in text, text
            if params["filters"]:
                assert " in " + ", ".join(v for _, v in sorted(params["filters"].items())) in text, text
            if template.endswith("?"):
                assert text.endswith("?"), text
            seen.add(text)
        assert len(seen) == len(intent.phrasings)
        assert phrase(intent, params, len(intent.phrasings)) == phrase(intent, params, 0)   # wraps around


def test_phrase_examples():
    assert phrase(CATALOGUE["revenue_total"], CATALOGUE["revenue_total"].bind({"period": "last_month"})) \
        == "What was revenue last month?"
    top = CATALOGUE["top_products"]
    assert phrase(top, top.bind({"period": "last_week", "n": 3, "filters": {"region": "West"}})) \
        == "What were the top 3 products by revenue last week in West?"
    assert phrase(CATALOGUE["biggest_movers"], CATALOGUE["biggest_movers"].bind({"period": "last_month"})) \
        == "Which sub-categories moved the most in revenue last month?"


# ------------------------------------------------------------------------------------------------
# validation
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("intent_id", sorted(CATALOGUE))
def test_valid_params_pass(intent_id):
    intent = CATALOGUE[intent_id]
    for params in sample_params(intent):
        validate_params(intent, params)
    if "period" in intent.free:
        for period in PERIODS:
            validate_params(intent, intent.bind({**sample_params(intent)[0], "period": period}))


BAD_PARAMS = [  # (intent_id, params, fragment of the message)
    ("top_products", {"period": "last_month", "n": 5, "metric": "revenu"}, "metric"),
    ("top_products", {"period": "last_month", "n": 5, "metric": "DROP TABLE orders"}, "metric"),
    ("revenue_total", {"period": "last_decade"}, "period"),
    ("revenue_total", {}, "period"),
    ("breakdown", {"period": "last_12_weeks", "metric": "revenue", "dimension": "category"}, "period"),
    ("top_products", {"period": "last_month", "n": 0}, "n must"),
    ("top_products", {"period": "last_month", "n": 51}, "n must"),
    ("top_products", {"period": "last_month", "n": -3}, "n must"),
    ("top_products", {"period": "last_month", "n": "5"}, "n must"),
    ("top_products", {"period": "last_month", "n": 2.5}, "n must"),
    ("breakdown", {"period": "last_month", "dimension": "colour"}, "dimension"),
    ("breakdown", {"period": "last_month", "dimension": "product_name; DROP TABLE orders"}, "dimension"),
    ("revenue_total", {"period": "last_month", "filters": {"password": "x"}}, "filter"),
    ("revenue_total", {"period": "last_month", "filters": {"region = region OR 1=1 --": "x"}}, "filter"),
    ("revenue_total", {"period": "last_month", "filters": {"sales": "100"}}, "filter"),
    ("revenue_total", {"period": "last_month", "filters": {"order_id": "CA-2022-1"}}, "filter"),
    ("share_of_total", {"period": "last_month"}, "entity"),
    ("share_of_total", {"period": "last_month", "entity": {"column": "sales", "value": "1"}}, "entity"),
    ("share_of_total", {"period": "last_month", "entity": "West"}, "entity"),
]


@pytest.mark.parametrize("intent_id,params,fragment", BAD_PARAMS,
                         ids=[f"{i}-{k}" for k, (i, _, _) in enumerate(BAD_PARAMS)])
def test_validate_params_rejects(intent_id, params, fragment):
    intent = CATALOGUE[intent_id]
    with pytest.raises(ValueError, match=fragment):
        validate_params(intent, intent.bind(params))


def test_validate_params_rejects_boolean_n():
    intent = CATALOGUE["top_products"]
    with pytest.raises(ValueError):
        validate_params(intent, intent.bind({"period": "last_month", "n": True}))


def test_every_filter_column_in_the_whitelist_is_accepted():
    intent = CATALOGUE["revenue_total"]
    for column in DIMENSION_COLUMNS:
        validate_params(intent, intent.bind({"period": "last_month", "filters": {column: "x"}}))


# ------------------------------------------------------------------------------------------------
# instance keys
# ------------------------------------------------------------------------------------------------


def test_instance_key_is_stable_and_order_independent():
    a = {"period": "last_month", "n": 5, "metric": "revenue", "filters": {"region": "West", "category": "Furniture"}}
    b = {"filters": {"category": "Furniture", "region": "West"}, "metric": "revenue", "n": 5, "period": "last_month"}
    assert instance_key("top_products", a) == instance_key("top_products", b)
    assert instance_key("top_products", a) == (
        'top_products|{"filters":{"category":"Furniture","region":"West"},"metric":"revenue","n":5,'
        '"period":"last_month"}')
    assert instance_key("revenue_total", {"period": "last_month"}) == 'revenue_total|{"period":"last_month"}'
    # different intents, periods, values or filters give different keys
    keys = {instance_key(i, p) for i, p in (
        ("top_products", a), ("bottom_products", a), ("top_products", {**a, "n": 3}),
        ("top_products", {**a, "period": "last_week"}), ("top_products", {**a, "filters": {"region": "West"}}),
        ("top_products", {**a, "filters": {}}))}
    assert len(keys) == 6
    # the same key every time
    assert answer_id_for("2022-11-22", instance_key("top_products", a)) == \
        answer_id_for("2022-11-22", instance_key("top_products", b))
    aid = answer_id_for("2022-11-22", instance_key("top_products", a))
    assert re.fullmatch(r"a[0-9a-f]{15}", aid)
    assert aid != answer_id_for("2022-11-23", instance_key("top_products", a))


# ------------------------------------------------------------------------------------------------
# SQL safety: values are bound, columns are whitelisted
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def con():
    """A private copy of the Superstore warehouse: the injection tests must not touch others'."""
    connection = superstore_connection()
    yield connection
    connection.close()


def _tables_intact(con) -> None:
    assert con.execute("SELECT count(*) FROM orders").fetchall()[0][0] == 10_194
    assert con.execute("SELECT count(*) FROM sales_facts").fetchall()[0][0] == 10_194


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_in_a_filter_value_is_bound_as_a_value(con, value):
    facts = compute_facts(con, "revenue_vs_prev", {"period": "last_month", "filters": {"region": value}}, NOV)
    assert (facts.key_figures["value"], facts.key_figures["previous"], facts.key_figures["delta"]) == (0, 0, 0)
    facts = compute_facts(con, "top_customers", {"period": "last_year", "n": 5, "filters": {"region": value}}, NOV)
    assert facts.rows == []
    facts = compute_facts(con, "breakdown", {"period": "last_year", "dimension": "state",
                                             "filters": {"category": value}}, NOV)
    assert facts.rows == [] and facts.key_figures["value"] == 0
    facts = compute_facts(con, "why_changed", {"period": "last_month", "filters": {"segment": value}}, NOV)
    assert facts.rows == [] and facts.key_figures["value"] == 0
    facts = compute_facts(con, "new_vs_returning", {"period": "last_month", "filters": {"city": value}}, NOV)
    assert facts.key_figures["customers"] == 0
    facts = compute_facts(con, "trend_monthly", {"filters": {"state": value}}, NOV)
    assert all(p["value"] == 0 for p in facts.rows)
    _tables_intact(con)


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_in_an_entity_value_is_bound_as_a_value(con, value):
    facts = compute_facts(con, "share_of_total", {"period": "last_year",
                                                  "entity": {"column": "region", "value": value}}, NOV)
    assert facts.key_figures["value"] == 0 and facts.key_figures["share_pct"] == 0
    assert facts.key_figures["total"] > 0
    _tables_intact(con)


def test_a_real_filter_value_still_matches(con):
    west = compute_facts(con, "revenue_total", {"period": "last_year", "filters": {"region": "West"}}, NOV)
    everything = compute_facts(con, "revenue_total", {"period": "last_year"}, NOV)
    assert 0 < west.key_figures["value"] < everything.key_figures["value"]


BAD_COLUMNS = ["region = region OR 1=1 --", "password", "sales", "order_id", "region; DROP TABLE orders",
               'region" OR "1"="1']


@pytest.mark.parametrize("column", BAD_COLUMNS)
def test_a_filter_column_outside_the_whitelist_raises(con, column):
    for intent_id, params in (
            ("revenue_total", {"period": "last_month"}),
            ("top_products", {"period": "last_month", "n": 3}),
            ("breakdown", {"period": "last_month"}),
            ("biggest_movers", {"period": "last_month"}),
            ("why_changed", {"period": "last_month"}),
            ("new_vs_returning", {"period": "last_month"}),
            ("trend_weekly", {})):
        with pytest.raises(ValueError):
            compute_facts(con, intent_id, {**params, "filters": {column: "West"}}, NOV)
    with pytest.raises(ValueError):
        compute_facts(con, "share_of_total", {"period": "last_month",
                                              "entity": {"column": column, "value": "West"}}, NOV)
    _tables_intact(con)


def test_a_dimension_outside_the_whitelist_raises(con):
    with pytest.raises((KeyError, ValueError)):
        compute_facts(con, "breakdown", {"period": "last_month", "dimension": "order_id; DROP TABLE orders"}, NOV)
    with pytest.raises((KeyError, ValueError)):
        compute_facts(con, "biggest_movers", {"period": "last_month", "dimension": "sales"}, NOV)
    _tables_intact(con)
