"""Pure pieces of the dashboard: escaping, number formats, charts, question cleaning, identity."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dashboard import data, identity
from dashboard.components import (chart, format_delta, format_energy, format_value, md_escape,
                                  method_label)
from warehouse.storage.serving import AnswerCard
from warehouse.storage.users import Scope, User

CARD = AnswerCard(
    answer_id="a1", question_text="q", headline="h", narrative="n", key_label="Revenue",
    key_value=1_234_567.0, previous_value=1_100_000.0, delta=134_567.0, delta_pct=12.2,
    direction="up", unit="$", chart_kind="line",
    chart_data=[{"period": "2026-10-01", "value": 1.0, "series": "revenue"}],
    scope_key="*", tier=0, model=None, joules=0.4, energy_method="estimate")


def test_md_escape_neutralises_markdown_html_and_latex():
    text = "<b>hi</b> [x](javascript:alert(1)) ![i](http://e/t.png) $a$ **b** :red[c]"
    escaped = md_escape(text)
    for raw in ("<b>", "[x]", "](", "![", "$a$", "**", ":red["):
        assert raw not in escaped
    assert escaped.replace("\\", "") == text


@pytest.mark.parametrize(("value", "unit", "shown"), [
    (1_234_567.0, "$", "$1,234,567"), (12.5, "$", "$12.50"), (11.44, "%", "11.4%"),
    (212.0, "count", "212"), (1234.0, "units", "1,234 units"), (2.5, "count", "2.5"),
    (None, "$", "—"), (float("nan"), "%", "—"),
])
def test_format_value(value, unit, shown):
    assert format_value(value, unit) == shown


def test_format_delta():
    assert format_delta(CARD) == "+12.2% (+$134,567)"
    assert format_delta(replace(CARD, delta=-2.1, delta_pct=None, unit="%")) == "-2.1 pts"
    assert format_delta(replace(CARD, delta=-500.0, delta_pct=None)) == "-$500"
    assert format_delta(replace(CARD, delta=0.0)) == "no change"
    assert format_delta(replace(CARD, delta=None)) is None


def test_energy_and_method_labels():
    assert format_energy(0.5) == "0.50 Wh" and format_energy(2500) == "2.50 kWh"
    assert method_label("estimate") == "estimate: CPU time × configured W"
    assert method_label("nvml").startswith("measured") and method_label(None) == "not recorded"
    assert "unverified" in method_label("guess")


def test_chart_by_kind_and_unusable_data():
    assert chart(CARD).to_dict()["mark"]["type"] == "line"
    bar = replace(CARD, chart_kind="bar", chart_data=[{"label": "A", "value": 2.0, "previous": 1.0}])
    assert [layer["mark"]["type"] for layer in chart(bar).to_dict()["layer"]] == ["bar", "tick"]
    no_previous = replace(bar, chart_data=[{"label": "A", "value": 2.0}])
    assert [layer["mark"]["type"] for layer in chart(no_previous).to_dict()["layer"]] == ["bar"]
    assert chart(replace(CARD, chart_data=[{"when": 1}])) is None
    assert chart(replace(CARD, chart_data=[{"period": "not a date", "value": 1.0}])) is None
    assert chart(replace(CARD, chart_kind="kpi", chart_data=[])) is None
    assert chart(replace(CARD, chart_kind="table")) is None


def test_clean_question_caps_and_strips_control_characters():
    assert data.clean_question("  how\x00 did\n\tsales   go?\u200b ") == "how did sales go?"
    assert len(data.clean_question("x" * 10_000)) == data.MAX_QUESTION_CHARS
    assert data.clean_question(None) == ""


def test_live_answering_is_opt_in_and_never_faked(monkeypatch):
    monkeypatch.delenv(data.LIVE_LLM_ENV, raising=False)
    off = data.live_answering()
    assert (off.requested, off.available) == (False, False)
    monkeypatch.setenv(data.LIVE_LLM_ENV, "1")
    on = data.live_answering()
    assert (on.requested, on.available) == (True, False) and "no live answerer" in on.reason


def test_identity_matches_user_ids_exactly_ignoring_case():
    users = [User("wes", "Wes", "regional_manager", Scope.parse("region=West")),
             User("ada@example.com", "Ada", "admin", Scope())]
    assert identity._match(users, ["", "WES"]).name == "Wes"
    assert identity._match(users, ["ADA@example.com"]).name == "Ada"
    assert identity._match(users, ["wes@example.com", "ada"]) is None
    assert identity.describe(users[0]) == "Wes · regional manager · region=West"
    assert identity.describe(users[1]) == "Ada · admin · everything"
