"""The steps of one night, as plain functions over a DuckDB connection.

The Dagster assets and ``offpeak backtest`` both call these, so a backtest replays exactly what
the nightly run does: understand the question log, forecast per user, de-duplicate question
instances across users, compute their facts, and write tier-0 answers.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Callable

import duckdb
import pandas as pd

from warehouse.semantic.answer_rows import answer_row
from warehouse.semantic.catalogue import CATALOGUE, answer_id_for, instance_key, phrase, validate_params
from warehouse.semantic.facts import Facts, compute_facts
from warehouse.forecasting.forecast import LoggedQuestion, Prediction
from warehouse.semantic.narrative import template_narrative
from warehouse.language.understanding import EntityIndex, understand
from warehouse.storage.users import User

Progress = Callable[[str], None]
BRIEFING_CARDS = 12


def understand_log(con: duckdb.DuckDBPyConnection, entities: EntityIndex) -> tuple[int, int]:
    """Understand every logged question text not seen before; return (new, unmapped among them).

    A text is understood as of the first day it was asked, so dated wording ("sales in
    February", "how did Monday go") maps onto the relative period it meant then (last month,
    yesterday) and counts as that habit in the user's history."""
    fresh = con.execute("""
        SELECT question, min(CAST(asked_at AS DATE)) FROM question_log
        WHERE kind IN ('ask', 'hit', 'miss', 'live', 'live_sql') AND question IS NOT NULL
          AND question NOT IN (SELECT question FROM question_understanding)
        GROUP BY question ORDER BY question""").fetchall()
    rows, unmapped = [], 0
    for text, first_asked in fresh:
        u = understand(text, entities, asked_on=first_asked)
        unmapped += not u.mapped
        rows.append((text, u.intent_id, json.dumps(u.params, sort_keys=True) if u.mapped else None,
                     1.0 if u.mapped else 0.0, u.mapped, u.reason))
    if rows:
        # one set-based INSERT: executemany runs (and commits) one statement per row, ~250 s for
        # 20,000 new questions on a file-backed warehouse
        frame = pd.DataFrame(rows, columns=["question", "intent_id", "params", "confidence", "mapped", "reason"])
        con.register("_understood", frame)
        try:
            con.execute("""INSERT INTO question_understanding
                SELECT question::VARCHAR, intent_id::VARCHAR, params::VARCHAR, confidence::DOUBLE,
                       mapped::BOOLEAN, reason::VARCHAR FROM _understood""")
        finally:
            con.unregister("_understood")
    return len(fresh), unmapped


def scoped(params: dict[str, Any], user: User) -> dict[str, Any] | None:
    """A question's parameters inside the asker's scope; None if it names something outside."""
    merged = user.scope.narrowed(params.get("filters", {}))
    return None if merged is None else {**params, "filters": merged.as_dict()}


def load_history(con: duckdb.DuckDBPyConnection, users: dict[str, User], before: date,
                 memo: dict[tuple, LoggedQuestion | None] | None = None) -> list[LoggedQuestion]:
    """Understood questions asked before ``before`` by known users, as forecast input.

    ``memo`` (log row -> its LoggedQuestion, None when outside the user's scope) lets a caller
    whose users and understandings do not change between calls convert each row only once."""
    rows = con.execute("""
        SELECT l.user_id, CAST(l.asked_at AS DATE), u.intent_id, u.params
        FROM question_log l JOIN question_understanding u USING (question)
        WHERE l.kind IN ('ask', 'hit', 'miss', 'live', 'live_sql') AND u.mapped AND l.asked_at < ?
        ORDER BY l.asked_at""", [before]).fetchall()
    memo = {} if memo is None else memo
    out = []
    for row in rows:
        if row not in memo:
            memo[row] = _logged(row, users)
        if memo[row] is not None:
            out.append(memo[row])
    return out


def _logged(row: tuple, users: dict[str, User]) -> LoggedQuestion | None:
    """One ``load_history`` row as forecast input; None for an unknown user or out of scope."""
    user_id, day, intent_id, params = row
    user = users.get(user_id)
    inside = scoped(json.loads(params), user) if user else None
    return None if inside is None else LoggedQuestion(user_id, day, intent_id, inside)


@dataclass
class PlannedInstance:
    """One distinct question instance of the night and the users it was predicted for."""

    key: str
    intent_id: str
    params: dict[str, Any]
    users: list[str] = field(default_factory=list)

    @property
    def question_text(self) -> str:
        return phrase(CATALOGUE[self.intent_id], self.params)


def plan_instances(predictions: list[Prediction]) -> dict[str, PlannedInstance]:
    """De-duplicate predictions across users: each distinct instance is computed once.

    Every instance's parameters are checked against its intent first (``validate_params``): a
    prediction the catalogue cannot answer is a bug upstream, raised as ValueError naming it.
    """
    planned: dict[str, PlannedInstance] = {}
    for p in predictions:
        key = instance_key(p.intent_id, p.params)
        if key not in planned:
            if p.intent_id not in CATALOGUE:
                raise ValueError(f"user {p.user_id}: prediction of unknown intent {p.intent_id!r}")
            try:
                validate_params(CATALOGUE[p.intent_id], p.params)
            except ValueError as error:
                raise ValueError(f"user {p.user_id}: prediction {key}: {error}") from None
            planned[key] = PlannedInstance(key, p.intent_id, p.params)
        planned[key].users.append(p.user_id)
    return planned


def compute_all_facts(con: duckdb.DuckDBPyConnection, planned: dict[str, PlannedInstance], asked_on: date,
                      progress: Progress | None = None) -> dict[str, Facts]:
    """Run every planned instance's SQL; progress every 500 instances."""
    out = {}
    for i, (key, inst) in enumerate(sorted(planned.items()), start=1):
        out[key] = compute_facts(con, inst.intent_id, inst.params, asked_on)
        if progress and i % 500 == 0:
            progress(f"facts: {i}/{len(planned)} instances")
    return out


def template_answers(night: date, facts_by_key: dict[str, Facts]) -> pd.DataFrame:
    """Tier-0 answers for every instance (the fallback and the default tier)."""
    rows = []
    for key, facts in facts_by_key.items():
        row = answer_row(night, key, facts, template_narrative(facts))
        row.update(tier=0, model=None, tokens_in=0, tokens_out=0, joules=0.0, energy_method=None,
                   grounded=True, fallback_reason=None)
        rows.append(row)
    return pd.DataFrame(rows)


def briefing_rows(night: date, predictions: list[Prediction],
                  overnight: list[tuple[str, str, str]] = ()) -> pd.DataFrame:
    """Per user: first the questions they asked yesterday that the night answered from the backlog
    (``overnight``: user_id, answer_id, question), then the answers predicted for them, ordered by
    probability, with reasons."""
    by_user: dict[str, list[Prediction]] = defaultdict(list)
    for p in predictions:
        by_user[p.user_id].append(p)
    asked: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for user_id, answer_id, question in overnight:
        asked[user_id].append((answer_id, question))
    rows = []
    for user_id in sorted(set(by_user) | set(asked)):
        cards = [(a, 1.0, [f"answered overnight: you asked \u201c{q}\u201d"]) for a, q in asked[user_id]]
        preds = sorted(by_user[user_id], key=lambda p: -p.probability)
        cards += [(answer_id_for(night.isoformat(), p.key), round(p.probability, 4), p.reasons) for p in preds]
        seen: set[str] = set()
        for answer_id, score, reasons in cards:
            if answer_id in seen or len(seen) == BRIEFING_CARDS:
                continue
            seen.add(answer_id)
            rows.append({"night": night, "user_id": user_id, "rank": len(seen), "answer_id": answer_id,
                         "score": score, "reasons": json.dumps(list(dict.fromkeys(reasons)))})
    return pd.DataFrame(rows, columns=["night", "user_id", "rank", "answer_id", "score", "reasons"])


def unmapped_backlog(con: duckdb.DuckDBPyConnection, night: date, encode) -> pd.DataFrame:
    """Questions asked on the night's day that the catalogue could not map, each with why and
    the three closest intents by embedding similarity: tomorrow's catalogue work, for admins."""
    rows = con.execute("""
        SELECT l.user_id, l.asked_at, l.question, u.reason FROM question_log l
        JOIN question_understanding u USING (question)
        WHERE NOT u.mapped AND l.asked_at >= ? AND l.asked_at < ?
        ORDER BY l.asked_at""", [night, night + timedelta(days=1)]).fetchall()
    columns = ["night", "user_id", "asked_at", "question", "closest"]
    if not rows:
        return pd.DataFrame(columns=columns)
    intents = list(CATALOGUE.values())
    intent_vectors = encode([i.title for i in intents])
    question_vectors = encode([q for _, _, q, _ in rows])
    out = []
    for (user_id, asked_at, question, reason), vector in zip(rows, question_vectors):
        scores = intent_vectors @ vector
        best = [f"{intents[i].intent_id} ({scores[i]:.2f})" for i in scores.argsort()[::-1][:3]]
        out.append((night, user_id, asked_at, question, json.dumps([reason, *best])))
    return pd.DataFrame(out, columns=columns)
