"""The matcher: serve an ad-hoc question from last night's answers, safely, or say why not.

One implementation serves the dashboard's Ask box and the backtest. A question is first
understood (intent + parameters, inside the asker's scope); the answers the asker may read are
ranked by embedding similarity to the question; an answer is served only when

- it is the very question instance the text asks for (same intent, same parameters), or
- the question could not be fully understood, yet every slot the text *does* state (metric,
  period, direction, N, entities) agrees with the answer, and the pair scorer
  (``warehouse.language.pair_scorer``: a bi-encoder and a cross-encoder tuned and calibrated on labelled
  "same question?" pairs, plus the generic slot guard of ``warehouse.language.slot_guard``) says one of the
  answer's phrasings asks the same thing.

Everything else is refused with its reason — a plausible answer with the wrong region, period,
metric or direction is worse than none. Scope is enforced before ranking: an answer computed for
a scope the user cannot read is never a candidate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from warehouse.semantic.catalogue import CATALOGUE, TREND_POINTS, instance_key, phrase
from warehouse.language.pair_scorer import PairScorer, load_pair_scorer
from warehouse.language.query_spec import LearnedPhrasing, learned_index, understand_with_learned
from warehouse.language.understanding import EntityIndex, Understanding
from warehouse.storage.users import Scope, User

CANDIDATES_SHOWN = 3
PHRASINGS_PER_ANSWER = 2


@dataclass(frozen=True)
class Candidate:
    answer_id: str
    question_text: str
    similarity: float
    refused_reason: str | None


@dataclass
class MatchResult:
    hit: bool
    answer_id: str | None
    similarity: float | None
    understood: str
    candidates: list[Candidate] = field(default_factory=list)
    queued_reason: str | None = None
    understanding: Understanding | None = None


@dataclass
class AnswerIndex:
    """The answers of one night with one embedding per phrasing, ready for matching."""

    answer_ids: list[str]
    keys: list[str]
    intents: list[str]
    params: list[dict[str, Any]]
    questions: list[str]
    phrasing_answer: np.ndarray     # (m,) row of the answer each phrasing belongs to
    phrasing_vectors: np.ndarray    # (m, d) L2-normalised
    entities: EntityIndex
    learned: dict[str, LearnedPhrasing] = field(default_factory=dict)   # by learned_key
    row_of_key: dict[str, int] = field(default_factory=dict)
    # visible_rows caches: each answer's value per filter column, and one mask per scope
    _filter_values: dict[str, np.ndarray] = field(default_factory=dict, init=False, repr=False, compare=False)
    _visible: dict[tuple[tuple[str, str], ...], np.ndarray] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.row_of_key = {k: i for i, k in enumerate(self.keys)}

    @classmethod
    def from_snapshot(cls, con) -> "AnswerIndex":
        """Load the index from a published snapshot connection (it holds one night)."""
        return cls.from_connection(con)

    @classmethod
    def from_connection(cls, con, night: date | None = None) -> "AnswerIndex":
        """Load the answers (of ``night``, when the connection holds several) and phrasings."""
        where, args = ("WHERE night = ?", [night]) if night is not None else ("", [])
        answers = con.execute(
            f"SELECT answer_id, instance_key, intent_id, params, question_text FROM answers {where} "
            "ORDER BY answer_id", args).fetchall()
        row = {a[0]: i for i, a in enumerate(answers)}
        phr = con.execute(f"SELECT answer_id, embedding FROM answer_phrasings {where} ORDER BY answer_id",
                          args).fetchall()
        phr = [p for p in phr if p[0] in row]
        vectors = np.array([p[1] for p in phr], dtype=np.float32) if phr else np.zeros((0, 1), np.float32)
        has_learned = con.execute("SELECT count(*) FROM information_schema.tables "
                                  "WHERE table_name = 'learned_phrasings'").fetchall()[0][0]
        learned = learned_index(con.execute("SELECT * FROM learned_phrasings").df().itertuples()) if has_learned else {}
        return cls([a[0] for a in answers], [a[1] for a in answers], [a[2] for a in answers],
                   [json.loads(a[3]) for a in answers], [a[4] for a in answers],
                   np.array([row[p[0]] for p in phr], dtype=np.int64), vectors,
                   EntityIndex.from_connection(con), learned)


class PhrasingCache:
    """Builds in-memory answer indexes, embedding each phrasing text once (texts recur nightly)."""

    def __init__(self, encode, phrasings_per_answer: int = PHRASINGS_PER_ANSWER):
        self.encode, self.per_answer, self.vectors = encode, phrasings_per_answer, {}

    def index(self, entries: list[tuple[str, str, dict[str, Any]]], entities: EntityIndex,
              learned: dict[str, LearnedPhrasing] | None = None) -> AnswerIndex:
        """An index over ``(answer_id, intent_id, params)`` entries (and learned phrasings)."""
        texts = [phrase(CATALOGUE[i], p, v) for _, i, p in entries for v in range(self.per_answer)]
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            for text, vector in zip(missing, self.encode(missing)):
                self.vectors[text] = np.asarray(vector, dtype=np.float32)
        vectors = np.stack([self.vectors[t] for t in texts]) if texts else np.zeros((0, 1), np.float32)
        return AnswerIndex([a for a, _, _ in entries], [instance_key(i, p) for _, i, p in entries],
                           [i for _, i, _ in entries], [p for _, _, p in entries],
                           [phrase(CATALOGUE[i], p) for _, i, p in entries],
                           np.repeat(np.arange(len(entries)), self.per_answer), vectors, entities,
                           dict(learned or {}))


_VISIBLE_CACHE_SCOPES = 1024


def visible_rows(index: AnswerIndex, scope: Scope) -> np.ndarray:
    """Rows of answers computed inside ``scope`` (their filters include all of the scope's).

    Computed once per scope and index (read-only array): a per-answer Python loop over 50,000
    answers took ~100 ms per Ask; the cached mask costs a dict lookup.
    """
    want = scope.as_dict()
    key = tuple(sorted(want.items()))
    mask = index._visible.get(key)
    if mask is None:
        mask = np.ones(len(index.params), dtype=bool)
        for column, value in want.items():
            values = index._filter_values.get(column)
            if values is None:
                values = np.empty(len(index.params), dtype=object)
                values[:] = [p.get("filters", {}).get(column) for p in index.params]
                index._filter_values[column] = values
            mask &= np.fromiter((v == value for v in values), dtype=bool, count=len(values))
        mask.flags.writeable = False
        if len(index._visible) >= _VISIBLE_CACHE_SCOPES:
            index._visible.clear()
        index._visible[key] = mask
    return mask


def slot_disagreements(u: Understanding, params: dict[str, Any], intent_id: str,
                       scope: dict[str, str]) -> list[str]:
    """What the question states that the answer contradicts (empty list: no disagreement)."""
    reasons = []
    stated = u.stated
    intent = CATALOGUE[intent_id]
    if u.mapped and u.intent_id != intent_id:
        reasons.append(f"asks {u.intent_id.replace('_', ' ')}, answer is {intent_id.replace('_', ' ')}")
    for slot in ("metric", "period", "n", "dimension"):
        said, has = stated.get(slot), params.get(slot)
        if said is not None and has is not None and said != has:
            reasons.append(f"{slot}: asked {said}, answer has {has}")
    if intent.family == "trend" and stated.get("points", TREND_POINTS) != params.get("n", TREND_POINTS):
        reasons.append(f"trend: asked {stated.get('points', TREND_POINTS)} points, answer has {params.get('n')}")
    if stated.get("direction") and params.get("direction") and stated["direction"] != params["direction"]:
        reasons.append(f"asked {stated['direction']}, answer is {params['direction']}")
    if stated.get("compare") in ("prev", "yoy") and intent.family == "kpi" and params.get("compare") != stated["compare"]:
        reasons.append(f"comparison: asked {stated['compare']}, answer has {params.get('compare')}")
    answer_filters = {c: v for c, v in params.get("filters", {}).items() if scope.get(c) != v}
    said_filters = {c: v for c, v in stated.get("entities", []) if scope.get(c) != v}
    entity = params.get("entity")
    if entity:
        said_filters.pop(entity["column"], None)
    if answer_filters != said_filters:
        asked = ", ".join(said_filters.values()) or "your whole scope"
        has = ", ".join(answer_filters.values()) or "the whole scope"
        reasons.append(f"asked about {asked}, answer covers {has}")
    return reasons


def match(index: AnswerIndex, user: User, question: str, query_vector: np.ndarray,
          asked_on: date | None = None, scorer: PairScorer | None = None) -> MatchResult:
    """Find a safe pre-computed answer for ``question`` inside ``user``'s scope.

    ``query_vector`` ranks the candidates; ``scorer`` (default: ``load_pair_scorer()``) decides
    whether a candidate may serve a question that was not fully understood.
    """
    scope = user.scope.as_dict()
    u = understand_with_learned(question, index.entities, asked_on, scope, index.learned)
    visible = visible_rows(index, user.scope)
    best_sim = _best_similarity_per_answer(index, query_vector, visible)
    ranked = sorted(best_sim.items(), key=lambda kv: -kv[1])[:CANDIDATES_SHOWN]

    if u.mapped:
        row = index.row_of_key.get(u.key())
        if row is not None and visible[row]:
            return MatchResult(True, index.answer_ids[row], _similarity_to(index, row, query_vector),
                               u.describe(), understanding=u)
    candidates = []
    for row, sim in ranked:
        reasons = slot_disagreements(u, index.params[row], index.intents[row], scope)
        if not u.mapped and not reasons:
            reasons = _paraphrase_refusals(scorer or load_pair_scorer(), question, index, row, scope)
        if u.mapped and not reasons:
            reasons.append("not the same question instance")
        candidates.append(Candidate(index.answer_ids[row], index.questions[row], sim, "; ".join(reasons) or None))
    served = next((c for c in candidates if c.refused_reason is None), None)
    if served:
        return MatchResult(True, served.answer_id, served.similarity, u.describe(), candidates, understanding=u)
    why = u.reason if not u.mapped else "not pre-computed last night"
    return MatchResult(False, None, candidates[0].similarity if candidates else None, u.describe(),
                       candidates, queued_reason=why, understanding=u)


def _paraphrase_refusals(scorer: PairScorer, question: str, index: AnswerIndex, row: int,
                         scope: dict[str, str]) -> list[str]:
    """Empty when ``question`` asks the same as one of the answer's phrasings, else why not
    (for the phrasing that came closest). Filters equal to the asker's scope are left out of
    the phrasings: a regional manager asking about "sales" means their region."""
    intent, params = CATALOGUE[index.intents[row]], dict(index.params[row])
    params["filters"] = {c: v for c, v in params.get("filters", {}).items() if scope.get(c) != v}
    decisions = [scorer.decide(question, phrase(intent, params, v)) for v in range(PHRASINGS_PER_ANSWER)]
    best = max(decisions, key=lambda d: (d.same, d.score))
    return [] if best.same else best.reasons


def _best_similarity_per_answer(index: AnswerIndex, query_vector: np.ndarray,
                                visible: np.ndarray) -> dict[int, float]:
    if len(index.phrasing_answer) == 0:
        return {}
    mask = visible[index.phrasing_answer]
    if not mask.any():
        return {}
    rows = index.phrasing_answer[mask]
    sims = index.phrasing_vectors[mask] @ query_vector.astype(np.float32)
    best: dict[int, float] = {}
    top = np.argsort(-sims)[: 4 * CANDIDATES_SHOWN + 8]
    for i in top:
        r = int(rows[i])
        if r not in best:
            best[r] = float(sims[i])
    return best


def _similarity_to(index: AnswerIndex, row: int, query_vector: np.ndarray) -> float | None:
    own = index.phrasing_answer == row
    if not own.any():
        return None
    return float((index.phrasing_vectors[own] @ query_vector.astype(np.float32)).max())


def match_question(con, user: User, question: str, asked_on: date | None = None,
                   index: AnswerIndex | None = None) -> MatchResult:
    """The dashboard's entry point: match against the snapshot behind ``con`` (pass a cached
    ``index`` to skip re-reading it)."""
    from warehouse.language.embedding import load_embedder
    index = index or AnswerIndex.from_snapshot(con)
    vector = load_embedder().encode([question[:500]])[0]
    return match(index, user, question, vector, asked_on)
