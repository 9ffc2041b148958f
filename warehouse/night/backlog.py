"""The night reads its backlog: questions the rules could not read yesterday, given to the LLM
tier as query-spec prompts (in the narratives' batch, under structured output), verified, answered
overnight when accepted, and kept as learned phrasings.

One source of truth: ``backlog_results`` (one row per backlog question and night, written by the
``answers`` asset). A learned phrasing is the first night's accepted (or needs-review) reading of a
question text; an admin's decision is a spool event (``learned_approve`` / ``learned_reject``)
in the question log, the latest by an admin wins. Nothing here runs a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Mapping

import duckdb
import pandas as pd

from warehouse.language.entities import EntityIndex
from warehouse.language.query_spec import (QuerySpec, SpecError, members_named, spec_schema, verify)
from warehouse.night.cascade import Completion, ExtraPrompt
from warehouse.night.prompting import render_prompt
from warehouse.semantic.catalogue import DIMENSIONS, LAYER, METRICS, answer_id_for, instance_key
from warehouse.semantic.periods import PERIODS
from warehouse.storage.users import User

MAX_BACKLOG_PROMPTS = 200
UNPARSED, NOT_TRIED, REJECTED = "unparsed", "not_tried", "rejected"
BACKLOG_COLUMNS = ["night", "user_id", "asked_at", "question", "status", "reason", "spec", "answer_id", "model"]
SHAPE_MEANINGS = {
    "total": "one figure for a period", "vs_previous": "a figure vs the period before",
    "vs_last_year": "a figure vs the same period last year", "top_n": "the highest N members of a dimension",
    "bottom_n": "the lowest N members of a dimension", "breakdown": "a metric split by a dimension",
    "share": "one member's share of the total", "trend": "a metric by week or by month",
    "movers": "members that changed most", "drivers": "why a metric changed",
    "new_vs_returning": "new vs returning customers", "none": "the layer cannot answer it",
}


@dataclass(frozen=True)
class BacklogItem:
    """One unread question of the night's day, by one asker."""

    user_id: str
    asked_at: datetime
    question: str

    @property
    def prompt_id(self) -> str:
        """The id its spec prompt carries in the batch."""
        return f"{self.user_id}|{self.question}"


def load_backlog(con: duckdb.DuckDBPyConnection, night: date, limit: int = MAX_BACKLOG_PROMPTS) -> list[BacklogItem]:
    """The night's unmapped questions (log and dashboard spool) whose text no earlier night has
    tried, one per asker and text, oldest first, at most ``limit``."""
    rows = con.execute("""
        SELECT user_id, min(asked_at) AS first_asked, question FROM unmapped_questions
        WHERE night = ? AND question NOT IN (SELECT question FROM backlog_results WHERE night < ?)
        GROUP BY user_id, question ORDER BY first_asked, user_id, question LIMIT ?""",
                       [night, night, limit]).fetchall()
    return [BacklogItem(u, a, q) for u, a, q in rows]


def spec_prompt_variables(question: str, members: list[tuple[str, str]], as_of: date) -> dict[str, Any]:
    """What ``prompts/query_spec.j2`` is filled with: the question and the morning it is answered
    for (periods are relative to it, as for every answer of the night), the layer's shapes,
    metrics, dimensions and periods, and the (dimension, member) pairs the question names."""
    return {"question": question, "as_of": f"{as_of:%A %d %B %Y}",
            "shapes": [{"name": s, "meaning": SHAPE_MEANINGS.get(s, s)} for s in (*LAYER.shapes, "none")],
            "metrics": [{"name": m.name, "label": m.label} for m in METRICS.values()],
            "dimensions": [{"name": d.name, "label": d.label} for d in DIMENSIONS.values()],
            "periods": list(PERIODS), "members": [{"dimension": d, "value": v} for d, v in members]}


def spec_prompt(item: BacklogItem, entities: EntityIndex, *, as_of: date) -> ExtraPrompt:
    """The structured-output prompt asking the model for ``item``'s query spec, answered for the
    morning ``as_of`` (verification and the overnight answer use the same day)."""
    members = members_named(item.question, entities)
    return ExtraPrompt(item.prompt_id,
                       [{"role": "system", "content": render_prompt("query_spec_system")},
                        {"role": "user", "content": render_prompt("query_spec",
                                                                  **spec_prompt_variables(item.question, members, as_of))}],
                       spec_schema(members))


@dataclass(frozen=True)
class BacklogResult:
    """What the night made of one backlog question: status, reason, the spec and, when
    accepted, the instance that answers it."""

    item: BacklogItem
    status: str
    reason: str | None = None
    spec: QuerySpec | None = None
    intent_id: str | None = None
    params: dict[str, Any] | None = None

    @property
    def key(self) -> str | None:
        """The accepted instance's key (None otherwise)."""
        return instance_key(self.intent_id, self.params) if self.intent_id and self.params is not None else None


def judge_backlog(items: list[BacklogItem], replies: Mapping[str, Completion], entities: EntityIndex,
                  users: Mapping[str, User], *, asked_on: date) -> list[BacklogResult]:
    """Parse and verify each reply; a question with no reply was not tried (no LLM tier)."""
    out = []
    for item in items:
        reply = replies.get(item.prompt_id)
        user = users.get(item.user_id)
        if reply is None:
            out.append(BacklogResult(item, NOT_TRIED, "no LLM tier ran tonight"))
            continue
        try:
            spec = QuerySpec.from_json(reply.text)
        except SpecError as exc:
            out.append(BacklogResult(item, UNPARSED, f"reply is not a spec: {exc}"))
            continue
        if user is None:
            out.append(BacklogResult(item, REJECTED, f"unknown user {item.user_id}", spec))
            continue
        verdict = verify(spec, item.question, entities, asked_on=asked_on, scope=user.scope.as_dict())
        u = verdict.understanding
        out.append(BacklogResult(item, verdict.status, verdict.reason, spec,
                                 u.intent_id if verdict.accepted and u else None,
                                 u.params if verdict.accepted and u else None))
    return out


def backlog_frame(night: date, results: list[BacklogResult], model: str | None) -> pd.DataFrame:
    """The ``backlog_results`` rows of the night."""
    return pd.DataFrame([{
        "night": night, "user_id": r.item.user_id, "asked_at": r.item.asked_at, "question": r.item.question,
        "status": r.status, "reason": r.reason, "spec": r.spec.to_json() if r.spec else None,
        "answer_id": answer_id_for(night.isoformat(), r.key) if r.key else None,
        "model": model if r.status != NOT_TRIED else None} for r in results], columns=BACKLOG_COLUMNS)


def overnight_cards(results: list[BacklogResult], night: date) -> list[tuple[str, str, str]]:
    """(user_id, answer_id, question) of each question answered overnight, for the askers' briefings."""
    return [(r.item.user_id, answer_id_for(night.isoformat(), r.key), r.item.question)
            for r in results if r.key]


def quality_row(night: date, kind: str, *, model: str | None, replies: int, parsed: int, kept: int) -> dict:
    """One ``llm_quality`` row: how many replies of a kind parsed and how many were kept."""
    return {"night": night, "kind": kind, "model": model, "replies": replies, "parsed": parsed, "kept": kept,
            "parse_failure_rate": round(1 - parsed / replies, 4) if replies else None}
