"""Prompts as files: render ``prompts/*.j2`` (Jinja, StrictUndefined) and parse the model's reply.

Each request gets a system message (``system.j2``) and a user message from its family's template,
filled with only the figures that template needs (computational triage). Every template ends
with the shared output-format section (``_output_format.j2``): JSON ``{"narrative": "..."}``.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from functools import lru_cache
from pathlib import Path

import jinja2
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from warehouse.night.answer_types import AnswerRequest
from warehouse.semantic.grounding import find_numbers

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"
FAMILY_TEMPLATES = {"drivers": "drivers", "movers": "movers", "summary": "summary",
                    "ranking": "summary", "share": "summary", "customers": "summary"}
DEFAULT_TEMPLATE = "generic"
MAX_ROWS = 5
MAX_MOVERS = 3
_CURRENCIES = {"$", "€", "£"}
_MONEY_KEYS = {"value", "previous", "delta", "current", "total"}
_LABELS = {"value": "this period", "previous": "previous period", "delta": "change",
           "delta_pct": "percent change", "current": "this period"}
_ROW_LABEL_KEYS = ("dimension", "label", "name")
_SKIPPED_FACTS = {"metric", "period_label", "unit"}


class Narrative(BaseModel):
    """The reply every prompt asks for; also the JSON schema of vLLM's structured output."""

    model_config = ConfigDict(extra="forbid")
    narrative: str = Field(min_length=1, max_length=800)


def narrative_regex(max_tokens: int) -> str:
    """The regular expression of ``Narrative``'s JSON that vLLM's structured output decodes to:
    ``{"narrative":"..."}`` whose text ends a sentence (a word or a figure, then ``.``, ``!`` or
    ``?``) within a length that fits in ``max_tokens`` output tokens.

    A JSON schema cannot say both (xgrammar refuses a patterned string with a length cap), and a
    length cap alone lets a small model run on without a full stop: a reply that is not a
    complete sentence. The text is printable ASCII without quotes, backslashes, braces, brackets
    or angle brackets (small models otherwise write JSON or markup inside), so the JSON always
    parses and every token writes at least one character: ``max_tokens - 12`` characters (12
    tokens for the JSON around them) always fit, and no reply is cut off.
    """
    longest = max(10, max_tokens - 12)
    return rf'\{{"narrative":"{_NARRATIVE_CHAR}{{8,{longest - 2}}}[A-Za-z0-9%)][.!?]"\}}'


# Printable ASCII but " \ { } [ ] < >.
_NARRATIVE_CHAR = "[ !#-;=?-Z^-z|~]"


def format_number(value: float, key: str = "", unit: str = "") -> str:
    """A figure as the prompt shows it: ``123,456.7``, ``$1,000``, ``+23.46%``, ``0.185``."""
    if key.endswith("pct"):
        return f"{value:+,.2f}".rstrip("0").rstrip(".") + "%"
    if abs(value) >= 1 or value == 0:
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
    else:
        text = f"{value:.3g}"
    signed = "delta" in key and value > 0
    if unit in _CURRENCIES and key in _MONEY_KEYS:
        text = text.replace("-", "-" + unit) if value < 0 else unit + text
    elif unit and key in _MONEY_KEYS:
        text = f"{text} {unit}"
    return ("+" if signed else "") + text


def _is_number(value: object) -> bool:
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(value))


def _figures(items: dict, unit: str, skip: set[str]) -> list[dict]:
    return [{"name": _LABELS.get(k, k.replace("_", " ")),
             "value": format_number(v, k, unit) if _is_number(v) else str(v)}
            for k, v in items.items() if k not in skip and v is not None]


def _row_label(row: dict) -> str:
    for key in _ROW_LABEL_KEYS:
        if key in row:
            return str(row[key])
    return next((str(v) for v in row.values() if isinstance(v, str)), "row")


def _row(row: dict, unit: str) -> dict:
    label_keys = {k for k in _ROW_LABEL_KEYS if k in row} or {
        k for k, v in row.items() if isinstance(v, str)}
    change = row.get("delta")
    return {"label": _row_label(row), "figures": _figures(row, unit, label_keys),
            "change": format_number(change, "delta", unit) if _is_number(change) else ""}


def _delta(row: dict) -> float:
    value = row.get("delta")
    return float(value) if _is_number(value) else 0.0


def prompt_variables(request: AnswerRequest) -> dict:
    """The variables every template may use, triaged down to what a narrative needs.

    ``rows`` holds the ``MAX_ROWS`` largest changes (or the first rows when there is no delta);
    ``risers`` and ``fallers`` the ``MAX_MOVERS`` biggest moves each way.
    """
    facts = request.facts
    unit = str(facts.get("unit") or "")
    has_delta = any(_is_number(r.get("delta")) for r in request.rows)
    ranked = sorted(request.rows, key=lambda r: -abs(_delta(r))) if has_delta else request.rows
    risers = sorted((r for r in request.rows if _delta(r) > 0), key=lambda r: -_delta(r))
    fallers = sorted((r for r in request.rows if _delta(r) < 0), key=_delta)
    return {
        "question": request.question,
        "metric": str(facts.get("metric") or "the metric"),
        "period": str(facts.get("period_label") or ""),
        "figures": _figures(facts, unit, _SKIPPED_FACTS),
        "rows": [_row(r, unit) for r in ranked[:MAX_ROWS]],
        "risers": [_row(r, unit) for r in risers[:MAX_MOVERS]],
        "fallers": [_row(r, unit) for r in fallers[:MAX_MOVERS]],
    }


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(PROMPTS_DIR),
                              undefined=jinja2.StrictUndefined, trim_blocks=True,
                              lstrip_blocks=True, autoescape=False)


def template_names() -> list[str]:
    """Every renderable template in ``prompts/`` (partials start with ``_``)."""
    return sorted(p.stem for p in PROMPTS_DIR.glob("*.j2") if not p.name.startswith("_"))


def render_prompt(name: str, **variables: object) -> str:
    """Render ``prompts/<name>.j2``; a variable the template uses but is not given raises."""
    return _environment().get_template(f"{name}.j2").render(**variables).strip()


def template_for(family: str) -> str:
    """The template that writes a ``family`` answer (``generic`` for families without one)."""
    return FAMILY_TEMPLATES.get(family, DEFAULT_TEMPLATE)


def build_messages(request: AnswerRequest) -> list[dict]:
    """The chat conversation for one request: system message + the family's user prompt."""
    return [{"role": "system", "content": render_prompt("system")},
            {"role": "user", "content": render_prompt(template_for(request.family),
                                                      **prompt_variables(request))}]


def parse_reply(text: str) -> str | None:
    """The narrative in a model reply, or None when the reply is not the JSON asked for.

    Strict first; then lenient: the first ``{...}`` object inside the text (models that ignore
    the format sometimes wrap it in prose or code fences).
    """
    for candidate in (text, *re.findall(r"\{.*?\}", text, flags=re.DOTALL)):
        try:
            return Narrative.model_validate_json(candidate).narrative.strip() or None
        except (ValidationError, json.JSONDecodeError, ValueError):
            continue
    return None


# A complete sentence of prose: a word, figure or bracket before its stop, and no markup in it.
_PROSE_SENTENCE = re.compile(r"^[^{}\[\]<>]*[A-Za-z0-9%)][.!?][\"')]?$")


def tidy_narrative(text: str, limit: int = 2) -> str | None:
    """At most ``limit`` complete, non-repeating sentences of ``text``; None if none is complete.

    A reply cut off by the token limit (or the length cap) ends mid-sentence, and small models
    repeat themselves: an unfinished sentence ends the narrative, and a sentence citing only
    figures already cited is dropped.
    """
    kept: list[str] = []
    cited: set[str] = set()
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        if len(kept) == limit or not _PROSE_SENTENCE.search(sentence):
            break
        figures = {m.raw.lstrip("+-\u2212") for m in find_numbers(sentence)}
        if figures and figures <= cited:
            continue
        kept.append(sentence)
        cited |= figures
    return " ".join(kept) or None
