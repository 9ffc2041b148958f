"""Query specs: a question's reading written in the semantic layer's own terms, and its verification.

A *query spec* says what a question asks as the layer knows it: a shape (``total``, ``top_n``,
``trend``, ...), a metric, a period, a dimension, N, the members it filters on. The night's LLM
proposes one for a question the rules could not read (under structured output, so the reply is
always this JSON); nothing believes it until :func:`verify` has checked it:

1. valid in the layer: known shape, metric, period and dimension, members the question names;
2. in the asker's scope (a member outside it, or under another member of it, is refused);
3. it agrees with every slot the rules read from the question (a stated metric, period,
   comparison, direction, N, dimension, grain and named members), and fills an unsaid slot
   only with the layer's default;
4. it round-trips: its canonical phrasing is understood back, by the rules, as the same instance;
5. every content word of the question is covered by the spec's vocabulary (closed world).

A spec failing 1-4 is ``rejected`` with the reason. One passing 1-4 whose only gap is 5 (words
the layer does not know, or an unsaid slot the spec filled with a non-default value while such
words are present) ``needs_review``: an admin may approve it; the product never maps an unknown
word by itself. A passing spec is ``accepted`` and becomes a learned phrasing: the question's
text read as that spec, re-verified (at zero model cost) each time it is asked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable, Mapping

from warehouse.language.entities import EntityIndex, normalise, outside_hierarchy
from warehouse.language.layer_words import DIMENSION_OF_COLUMN
from warehouse.language.understanding import Understanding, understand, uncovered_words
from warehouse.semantic.catalogue import (CATALOGUE, DIMENSIONS, LAYER, METRICS, MAX_TREND_POINTS, instance_key,
                                          phrase, ranking_intent_id, validate_params)
from warehouse.semantic.periods import PERIODS
from warehouse.storage.learned import ACCEPTED, APPROVED, NEEDS_REVIEW, USABLE

NO_QUERY = "none"          # the shape a model gives when the layer cannot express the question
SHAPES: tuple[str, ...] = (*LAYER.shapes, NO_QUERY)
GRAINS = ("week", "month")
DRIVER_COMPARISONS = {"previous": "prev", "last_year": "yoy"}
_KPI_SHAPES = {"total": ("total", "none"), "vs_previous": ("vs_prev", "prev"), "vs_last_year": ("vs_last_year", "yoy")}
_FAMILY_OF_SHAPE = {"breakdown": "breakdown", "share": "share_of_total", "movers": "biggest_movers",
                    "drivers": "why_changed", "new_vs_returning": "new_vs_returning"}
MAX_FILTERS = 3
REJECTED = "rejected"


class SpecError(ValueError):
    """A proposed spec is not valid in the semantic layer; the message says which part."""


@dataclass(frozen=True)
class QuerySpec:
    """A question's reading in the layer's terms (dimension names, not columns)."""

    shape: str
    metric: str | None = None
    period: str | None = None
    dimension: str | None = None
    n: int | None = None
    grain: str | None = None
    compare: str | None = None                        # drivers only: previous | last_year
    filters: tuple[tuple[str, str], ...] = ()         # (dimension, member)
    share_of: tuple[str, str] | None = None           # share only: (dimension, member)

    @classmethod
    def from_json(cls, text: str) -> "QuerySpec":
        """Parse and check a spec reply (the JSON :func:`spec_schema` describes)."""
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, TypeError) as exc:
            raise SpecError(f"not JSON ({exc})") from None
        if not isinstance(data, dict):
            raise SpecError("not a JSON object")
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "QuerySpec":
        """Build and check a spec from its JSON object."""
        unknown = set(data) - set(_FIELDS)
        if unknown:
            raise SpecError(f"unknown fields {sorted(unknown)}")
        _member_of(data.get("shape"), SHAPES, "shape")
        _member_of(data.get("metric"), (None, *METRICS), "metric")
        _member_of(data.get("period"), (None, *PERIODS), "period")
        _member_of(data.get("dimension"), (None, *DIMENSIONS), "dimension")
        _member_of(data.get("grain"), (None, *GRAINS), "grain")
        _member_of(data.get("compare"), (None, *DRIVER_COMPARISONS), "compare")
        n = data.get("n")
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 50):
            raise SpecError(f"n {n!r} is not a whole number from 1 to 50")
        filters = tuple(_pair(f, "filters") for f in data.get("filters") or ())
        if len(filters) > MAX_FILTERS:
            raise SpecError(f"more than {MAX_FILTERS} filters")
        share = data.get("share_of")
        return cls(shape=data["shape"], metric=data.get("metric"), period=data.get("period"),
                   dimension=data.get("dimension"), n=n, grain=data.get("grain"), compare=data.get("compare"),
                   filters=filters, share_of=_pair(share, "share_of") if share else None)

    def to_json(self) -> str:
        """The canonical JSON of the spec (sorted keys): what a learned phrasing stores."""
        data = {f: getattr(self, f) for f in _FIELDS}
        data["filters"] = [{"dimension": d, "value": v} for d, v in self.filters]
        data["share_of"] = {"dimension": self.share_of[0], "value": self.share_of[1]} if self.share_of else None
        return json.dumps(data, sort_keys=True)


_FIELDS = ("shape", "metric", "period", "dimension", "n", "grain", "compare", "filters", "share_of")


def _member_of(value: object, allowed: tuple, what: str) -> None:
    if value not in allowed:
        raise SpecError(f"{what} {value!r} is not in the semantic layer")


def _pair(item: object, what: str) -> tuple[str, str]:
    if not isinstance(item, Mapping) or set(item) != {"dimension", "value"}:
        raise SpecError(f"{what} must be objects with a dimension and a value")
    _member_of(item["dimension"], tuple(DIMENSIONS), f"{what} dimension")
    if not isinstance(item["value"], str) or not item["value"]:
        raise SpecError(f"{what} value must be a member's name")
    return item["dimension"], item["value"]


def spec_schema(members: list[tuple[str, str]]) -> dict[str, Any]:
    """The JSON schema of a spec for one question (vLLM's structured output): the layer's
    shapes, metrics, periods and dimensions as enums, and as members only ``members``, the
    (dimension, member) pairs the question names (none: no filter can be proposed)."""
    def nullable(values: tuple) -> dict:
        return {"enum": [*values, None]}

    member = {"type": "object", "additionalProperties": False, "required": ["dimension", "value"],
              "properties": {"dimension": {"enum": sorted({d for d, _ in members}) or [None]},
                             "value": {"enum": sorted({v for _, v in members}) or [None]}}}
    return {
        "type": "object", "additionalProperties": False, "required": list(_FIELDS),
        "properties": {
            "shape": {"enum": list(SHAPES)}, "metric": nullable(tuple(METRICS)), "period": nullable(PERIODS),
            "dimension": nullable(tuple(DIMENSIONS)),
            "n": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 50}, {"type": "null"}]},
            "grain": nullable(GRAINS), "compare": nullable(tuple(DRIVER_COMPARISONS)),
            "filters": {"type": "array", "items": member, "maxItems": MAX_FILTERS if members else 0},
            "share_of": {"anyOf": [member, {"type": "null"}]} if members else {"type": "null"},
        },
    }


def members_named(question: str, entities: EntityIndex) -> list[tuple[str, str]]:
    """The (dimension, member) pairs ``question`` names, as a spec refers to them."""
    return [(DIMENSION_OF_COLUMN[c], v) for c, v, _ in entities.find(entities.expand_aliases(normalise(question)))
            if c in DIMENSION_OF_COLUMN]


def to_instance(spec: QuerySpec) -> tuple[str, dict[str, Any]]:
    """The catalogue intent and parameters (filters excluded) the spec stands for."""
    if spec.shape == NO_QUERY:
        raise SpecError("the model found no query of the semantic layer for it")
    metric = spec.metric or LAYER.defaults["metric"]
    params: dict[str, Any] = {"metric": metric, "period": spec.period, "n": spec.n, "dimension": spec.dimension}
    if spec.shape in _KPI_SHAPES:
        intent_id = f"{metric}_{_KPI_SHAPES[spec.shape][0]}"
    elif spec.shape in ("top_n", "bottom_n"):
        if spec.dimension is None or not DIMENSIONS[spec.dimension].rank:
            raise SpecError(f"a {spec.shape} question needs a ranked dimension, not {spec.dimension!r}")
        intent_id = ranking_intent_id(spec.shape.split("_")[0], spec.dimension)
    elif spec.shape == "trend":
        if spec.grain is None:
            raise SpecError("a trend needs a grain (week or month)")
        if spec.n is not None and not 2 <= spec.n <= MAX_TREND_POINTS[spec.grain]:
            raise SpecError(f"a {spec.grain}ly trend covers 2 to {MAX_TREND_POINTS[spec.grain]} points")
        intent_id = f"trend_{spec.grain}ly"
    else:
        intent_id = _FAMILY_OF_SHAPE[spec.shape]
    if spec.shape == "share":
        if spec.share_of is None:
            raise SpecError("a share question needs the member it is about")
        params["entity"] = {"column": DIMENSIONS[spec.share_of[0]].column, "value": spec.share_of[1]}
    if spec.shape == "drivers":
        params["compare"] = DRIVER_COMPARISONS.get(spec.compare or "previous")
    intent = CATALOGUE.get(intent_id)
    if intent is None:
        raise SpecError(f"the layer has no {spec.shape} question for {spec.dimension or metric}")
    kept = {k: v for k, v in params.items() if k in intent.free and v is not None}
    bound = intent.bind(kept)
    try:
        validate_params(intent, bound)
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    return intent_id, bound


@dataclass(frozen=True)
class Verdict:
    """What verification made of a spec: accepted (with the instance it answers), needs_review
    (valid, but words the layer does not know) or rejected, and why."""

    status: str
    reason: str | None = None
    understanding: Understanding | None = None

    @property
    def accepted(self) -> bool:
        return self.status == ACCEPTED


def verify(spec: QuerySpec, question: str, entities: EntityIndex, *, asked_on: date | None,
           scope: Mapping[str, str], reviewed: bool = False) -> Verdict:
    """Check ``spec`` as a reading of ``question`` asked in ``scope`` (module docstring, 1-5).

    ``reviewed`` (an admin approved this reading) waives the coverage check (5); 1-4 always hold.
    """
    scope = dict(scope)
    try:
        intent_id, params = to_instance(spec)
    except SpecError as exc:
        return Verdict(REJECTED, str(exc))
    named = [(DIMENSIONS[d].column, v) for d, v in spec.filters] + (
        [(DIMENSIONS[spec.share_of[0]].column, spec.share_of[1])] if spec.share_of else [])
    unknown_members = [v for c, v in named if (c, v) not in {(c2, v2) for c2, v2, _ in entities.find(normalise(v))}]
    if unknown_members:
        return Verdict(REJECTED, f"not members of the warehouse: {', '.join(unknown_members)}")
    ruled = understand(question, entities, asked_on, scope)
    if ruled.mapped:
        if ruled.key() == _full_key(intent_id, params, spec, scope):
            return Verdict(ACCEPTED, None, ruled)
        return Verdict(REJECTED, f"the rules read it as {ruled.describe()}")
    outside = outside_hierarchy([(c, v, 0) for c, v in named], scope, entities.parents)
    if outside:
        return Verdict(REJECTED, outside)
    filters = dict(scope)
    for column, value in ((DIMENSIONS[d].column, v) for d, v in spec.filters):
        if filters.get(column, value) != value:
            return Verdict(REJECTED, f"{value} is outside the asker's scope ({column}={filters[column]})")
        filters[column] = value
    disagreements, guesses = _slot_check(spec, intent_id, params, ruled.stated, named, scope)
    if disagreements:
        return Verdict(REJECTED, "; ".join(disagreements))
    full = params | {"filters": filters}
    back = understand(phrase(CATALOGUE[intent_id], full), entities, asked_on, scope)
    if back.key() != instance_key(intent_id, full):
        return Verdict(REJECTED, f"its canonical phrasing reads back as {back.describe()}")
    metric_words = params.get("metric") if "metric" in CATALOGUE[intent_id].free else None
    uncovered = uncovered_words(question, entities, metric=metric_words or ruled.stated.get("metric"),
                                dimension=spec.dimension, points=spec.n if spec.shape == "trend" else None)
    if (uncovered or guesses) and not reviewed:
        if not uncovered:
            return Verdict(REJECTED, "; ".join(guesses))
        reason = "words not in the semantic layer: " + ", ".join(uncovered) + "".join(f"; {g}" for g in guesses)
        return Verdict(NEEDS_REVIEW, reason)
    return Verdict(ACCEPTED, None, Understanding(ruled.question, intent_id, full, stated=ruled.stated,
                                                 origin="learned"))


def _full_key(intent_id: str, params: dict[str, Any], spec: QuerySpec, scope: dict[str, str]) -> str:
    filters = dict(scope) | {DIMENSIONS[d].column: v for d, v in spec.filters}
    return instance_key(intent_id, params | {"filters": filters})


def _slot_check(spec: QuerySpec, intent_id: str, params: dict[str, Any], stated: dict[str, Any],
                named: list[tuple[str, str]], scope: dict[str, str]) -> tuple[list[str], list[str]]:
    """Where the spec contradicts what the question states (disagreements, always refused), and
    where it fills an unsaid slot with something other than the layer's default (guesses)."""
    if not stated:
        return ["nothing in the question to check the reading against"], []
    intent = CATALOGUE[intent_id]
    disagree, guess = [], []

    def slot(name: str, proposed: object, said: object, default: object = None) -> None:
        if said is not None and proposed != said:
            disagree.append(f"the question says {name} {said}, the spec {proposed}")
        elif said is None and proposed is not None and proposed != default:
            guess.append(f"{name} {proposed} is not said in the question")

    if "metric" in intent.free or "metric" in intent.fixed:
        slot("metric", params["metric"], stated.get("metric"), LAYER.defaults["metric"])
    if "period" in intent.free:
        if stated.get("period") is None:
            disagree.append("no period is said in the question")
        slot("period", params["period"], stated.get("period"))
    compare = intent.fixed.get("compare", params.get("compare"))
    said_compare = stated.get("compare")
    if compare is not None and said_compare is not None and compare != said_compare and \
            not (intent.family == "drivers" and said_compare == "none"):
        disagree.append(f"the question compares {said_compare}, the spec {compare}")
    if intent.family == "ranking":
        slot("direction", intent.fixed["direction"], stated.get("direction"))
        if stated.get("direction") is None:
            disagree.append("no direction (top or bottom) is said in the question")
    if "n" in intent.free:
        said_n = stated.get("points") if intent.family == "trend" else stated.get("n")
        slot("n", params["n"], said_n, intent.defaults.get("n"))
    if "dimension" in intent.free or "dimension" in intent.fixed:
        dimension = params.get("dimension", intent.fixed.get("dimension"))
        slot("dimension", dimension, stated.get("dimension"), intent.defaults.get("dimension"))
    if intent.family == "trend":
        slot("grain", intent.fixed["grain"], stated.get("grain"))
    said_members = {(c, v) for c, v in stated.get("entities", [])} - set(scope.items())
    proposed = set(named) - set(scope.items())
    if said_members != proposed:
        disagree.append("the spec's members (" + (", ".join(sorted(v for _, v in proposed)) or "none") +
                        ") are not the question's (" + (", ".join(sorted(v for _, v in said_members)) or "none") + ")")
    return disagree, guess


@dataclass(frozen=True)
class LearnedPhrasing:
    """A question text read as a spec, learned overnight (status accepted, or approved by an admin)."""

    question: str
    spec: QuerySpec
    status: str
    origin: str


def learned_key(question: str) -> str:
    """The lookup key of a question text among learned phrasings (normalised wording)."""
    return normalise(question)


def learned_index(rows: Iterable[Any]) -> dict[str, LearnedPhrasing]:
    """The learned phrasings understanding may use (accepted or approved), by lookup key."""
    out: dict[str, LearnedPhrasing] = {}
    for row in rows:
        if row.status in USABLE:
            try:
                spec = QuerySpec.from_json(row.spec)
            except SpecError:
                continue    # a layer change retired a word of it: it no longer reads
            out[learned_key(row.question)] = LearnedPhrasing(row.question, spec, row.status,
                                                             f"{row.model} on {row.learned_night}")
    return out


def understand_with_learned(question: str, entities: EntityIndex, asked_on: date | None,
                            scope: Mapping[str, str] | None,
                            learned: Mapping[str, LearnedPhrasing] | None) -> Understanding:
    """The rules' reading of ``question``; when they cannot read it and a learned phrasing has
    its text, that phrasing's spec, re-verified for this asker and day (no model runs)."""
    ruled = understand(question, entities, asked_on, dict(scope or {}))
    entry = (learned or {}).get(learned_key(question))
    if ruled.mapped or entry is None:
        return ruled
    verdict = verify(entry.spec, question, entities, asked_on=asked_on, scope=scope or {},
                     reviewed=entry.status == APPROVED)
    if verdict.accepted and verdict.understanding is not None:
        return verdict.understanding
    ruled.reason = f"{ruled.reason}; its learned reading does not hold here: {verdict.reason}"
    return ruled
