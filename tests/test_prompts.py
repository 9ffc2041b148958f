"""Prompt templates render with StrictUndefined, show only grounded figures, and parse replies."""

from __future__ import annotations

import json
import re
from datetime import date

import jinja2
import pytest
from jinja2 import meta

from warehouse.night.answer_types import AnswerRequest
from warehouse.night.backlog import spec_prompt_variables
from warehouse.semantic.grounding import check_grounding
from warehouse.night.prompting import (PROMPTS_DIR, Narrative, build_messages, tidy_narrative,
                                 format_number, narrative_regex, parse_reply, prompt_variables,
                                 render_prompt, template_for, template_names)

REQUEST = AnswerRequest(
    answer_id="a1", intent_id="revenue_change", family="drivers",
    question="Why did revenue change last month vs the month before in the West?",
    facts={"metric": "revenue", "period_label": "October 2026", "value": 123456.7,
           "previous": 100000.0, "delta": 23456.7, "delta_pct": 23.46, "unit": "$"},
    rows=[{"dimension": d, "value": v, "previous": p, "delta": v - p}
          for d, v, p in [("Furniture", 1234.5, 1000.0), ("Chairs", 500.0, 900.0),
                          ("Phones", 50.0, 40.0), ("Binders", 70.0, 75.5), ("Art", 9.0, 9.0),
                          ("Tables", 300.0, 100.0), ("Paper", 12.0, 11.0)]],
    numbers=[123456.7, 100000.0, 23456.7, 23.46, 2026, 1234.5, 1000.0, 234.5, 500.0, 900.0,
             -400.0, 50.0, 40.0, 10.0, 70.0, 75.5, -5.5, 9.0, 0.0, 300.0, 100.0, 200.0, 12.0,
             11.0, 1.0],
    template_text="Revenue was $123,456.7 in October 2026, up 23.46% on $100,000.",
)


SPEC_TEMPLATES = ("query_spec", "query_spec_system")
SPEC_QUESTION = "how much did Texas sell last month"


def _sample_variables(name: str) -> dict:
    """The variables a template is rendered with: a backlog spec prompt's or a narrative's."""
    if name in SPEC_TEMPLATES:
        return spec_prompt_variables(SPEC_QUESTION, [("state", "Texas")], date(2026, 11, 20))
    return prompt_variables(REQUEST)


def _variables_used(name: str) -> set[str]:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(PROMPTS_DIR))
    source = (PROMPTS_DIR / f"{name}.j2").read_text()
    return meta.find_undeclared_variables(env.parse(source))


@pytest.mark.parametrize("name", template_names())
def test_every_template_renders_with_sample_variables(name):
    text = render_prompt(name, **_sample_variables(name))
    assert text and "{{" not in text and "{%" not in text
    if name == "query_spec":
        assert SPEC_QUESTION in text and "Texas (state)" in text and "JSON" in text
        assert "Today is Friday 20 November 2026" in text
    elif name not in ("system", "query_spec_system"):
        assert REQUEST.question in text
        assert '{"narrative": "..."}' in text


@pytest.mark.parametrize("name", [n for n in template_names() if _variables_used(n)])
def test_a_missing_variable_fails_loudly(name):
    variables = _sample_variables(name)
    for missing in sorted(_variables_used(name)):
        partial = {k: v for k, v in variables.items() if k != missing}
        with pytest.raises(jinja2.UndefinedError):
            render_prompt(name, **partial)


def test_readme_lists_each_template_with_its_variables():
    readme = (PROMPTS_DIR / "README.md").read_text()
    for name in template_names():
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{name}.j2`"))
        listed = set(re.findall(r"`(\w+)`", row.split("|")[3]))
        assert listed == _variables_used(name), name


def test_every_family_has_a_template_and_the_user_prompt_follows_the_system_message():
    assert template_for("drivers") == "drivers" and template_for("movers") == "movers"
    assert template_for("ranking") == "summary" and template_for("kpi") == "generic"
    messages = build_messages(REQUEST)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "Biggest changes:\n- Chairs: -$400\n" in messages[1]["content"]


def test_triage_keeps_the_largest_changes_and_the_biggest_movers():
    variables = prompt_variables(REQUEST)
    assert [r["label"] for r in variables["rows"]] == ["Chairs", "Furniture", "Tables", "Phones",
                                                       "Binders"]
    assert [r["label"] for r in variables["risers"]] == ["Furniture", "Tables", "Phones"]
    assert [r["label"] for r in variables["fallers"]] == ["Chairs", "Binders"]


def test_every_figure_shown_to_the_model_passes_the_grounding_guard():
    variables = prompt_variables(REQUEST)
    shown = [f["value"] for f in variables["figures"]]
    shown += [f["value"] for r in variables["rows"] + variables["risers"] + variables["fallers"]
              for f in r["figures"]]
    for value in shown:
        assert check_grounding(value, REQUEST.numbers).grounded, value


@pytest.mark.parametrize("value, key, unit, expected", [
    (123456.7, "value", "$", "$123,456.7"),
    (100000.0, "previous", "$", "$100,000"),
    (-400.0, "delta", "$", "-$400"),
    (234.5, "delta", "$", "+$234.5"),
    (23.456, "delta_pct", "$", "+23.46%"),
    (-3.4, "delta_pct", "", "-3.4%"),
    (0.18456, "share", "", "0.185"),
    (42.0, "value", "orders", "42 orders"),
])
def test_format_number(value, key, unit, expected):
    assert format_number(value, key, unit) == expected


@pytest.mark.parametrize("reply, expected", [
    ('{"narrative": "Revenue rose."}', "Revenue rose."),
    ('{ "narrative" : "Padded." }', "Padded."),
    ('Sure! Here it is:\n```json\n{"narrative": "Fenced."}\n```', "Fenced."),
    ('{"narrative": "Cut off mid', None),
    ('Revenue rose a lot.', None),
    ('{"narrative": ""}', None),
    ('{"narrative": "x", "confidence": 1}', None),
    ('{"story": "wrong key"}', None),
])
def test_parse_reply(reply, expected):
    assert parse_reply(reply) == expected


def test_structured_output_is_the_reply_model_ending_a_sentence_within_the_token_budget():
    pattern = re.compile(narrative_regex(max_tokens=96))
    for text in ("Revenue was $1,234.5, up 3%.", "Did profit fall? Yes!"):
        reply = json.dumps({"narrative": text}, separators=(",", ":"))
        assert pattern.fullmatch(reply) and parse_reply(reply) == text
    assert not pattern.fullmatch('{"narrative":"Revenue was $1,234.5, up 3%"}')       # no full stop
    assert not pattern.fullmatch('{"narrative":"She said \\"up\\" again."}')           # no quote: always JSON
    assert not pattern.fullmatch('{"narrative":"Up {json}."}')                         # no markup
    assert not pattern.fullmatch('{"narrative":"Up 5% in Q3 \u2013 Furniture."}')          # ASCII only
    assert pattern.fullmatch('{"narrative":"%s."}' % ("x" * 83))
    assert not pattern.fullmatch('{"narrative":"%s."}' % ("x" * 84))                   # 96 - 12 = 84 characters
    assert Narrative.model_json_schema()["properties"]["narrative"]["maxLength"] == 800


@pytest.mark.parametrize("text, expected", [
    ("Revenue rose 5.2%.", "Revenue rose 5.2%."),
    ("Revenue rose 5.2%. Furniture led with $1,234.5! Chairs fell.",
     "Revenue rose 5.2%. Furniture led with $1,234.5!"),
    ("Revenue rose 5.2%. The biggest increase is in", "Revenue rose 5.2%."),
    ("The biggest increase is $1,234.5 in", None),
    ('He said "up 5%."', 'He said "up 5%."'),
    ("Sales were $70,480.23, up 16%} {.json} {.!", None),                 # markup is not prose
    ("Revenue rose 5.2%. The biggest 3-.", "Revenue rose 5.2%."),           # a stop after a dash ends nothing
    ("Furniture rose $5,061.67. The biggest increase is Furniture, up $5,061.67. Chairs fell $9.2.",
     "Furniture rose $5,061.67. Chairs fell $9.2."),
])
def test_tidy_narrative(text, expected):
    assert tidy_narrative(text) == expected
