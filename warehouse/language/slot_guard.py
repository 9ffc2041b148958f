"""A generic guard against serving a near-duplicate question that asks for something else.

Two questions can sit close in embedding space and still differ in a *slot* that changes the
answer: "highest" vs "lowest", "average" vs "total", "West" vs "East", "last month" vs "this month",
"top 5" vs "top 10", "before 2020" vs "after 2020". ``extract_slots`` reads those slots from a
question (after light normalisation: synonyms folded, plurals stripped, number words as digits)
and ``guard`` refuses a pair whose slots differ, saying which ones. ``align`` scores the rest of the
wording: how close the worst-matched content word of either question comes to a word of the other
("source" vs "destination", an extra "… and their ages"). Nothing here knows a schema; a
catalogue-level guard can be stacked on top with ``combine``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Protocol

import numpy as np

from warehouse.language.lexicon import (MONTH_ABBREVIATIONS, MONTHS, MULTIPLICATIVE_WORDS, NUMBER_WORDS,
                                        ORDINAL_WORDS, is_typo_of)

# ---------------------------------------------------------------------------------------------
# Lexicons. Each phrase rule maps a regular expression (matched on lower-cased text) to a slot
# value; rules run in order and consume what they match, so "at least" never counts as "least".
# ---------------------------------------------------------------------------------------------

_NUMBER_WORDS = NUMBER_WORDS | MULTIPLICATIVE_WORDS
# "one" is a pronoun after these words ("the one with", "which one") or before a clause/the end.
_PRONOUN_ONE_BEFORE = ("the", "which", "each", "any", "every", "no", "this", "that")

_PERIOD_UNITS = r"(day|week|month|quarter|year|fiscal year|fy)"

# Integer bounds are rewritten to strict comparisons first, so "at least 2" reads as "more than 1"
# and "2014 or after" as "after 2013": (pattern, comparison, offset added to the number).
_INTEGER_BOUNDS: tuple[tuple[str, str, int], ...] = (
    (r"\b(?:at least|no less than|not less than|no fewer than|not fewer than|a minimum of|"
     r"(?:greater|more|larger|higher) than or equal to) \$?(\d+)\b(?![.,]\d)", "more than", -1),
    (r"\b(\d+)(?![.,]\d) (?:or|and) (?:more|above|greater|higher|over)\b", "more than", -1),
    (r"\b(?:at most|no more than|not more than|no greater than|a maximum of|up to|"
     r"(?:less|fewer|smaller|lower) than or equal to) \$?(\d+)\b(?![.,]\d)", "less than", 1),
    (r"\b(\d+)(?![.,]\d) or (?:less|fewer|below|lower|under)\b", "less than", 1),
    (r"\b(\d+)(?![.,]\d) or (?:after|later)\b", "after", -1),
    (r"\b(\d+)(?![.,]\d) or (?:before|earlier)\b", "before", 1),
)
_COMPARATIVE = r"(?:{}) (?=(?:[\w'-]+ ){{0,3}}th[ae]n\b)"
# A date, year or period follows: "before 2020", "after the year 2000", "since last month".
_DATE_AHEAD = (r" (the |a |an )?(year |date |month |day )?(\d|january|february|march|april|may|"
               r"june|july|august|september|october|november|december|last|this|yesterday|today)")
_HIGH_END = {"high", "large", "big", "great", "most", "many", "long", "old", "tall", "heavy",
             "expensive", "rich", "much", "more", "z"}
_LOW_END = {"low", "small", "little", "least", "few", "short", "young", "cheap", "light", "less",
            "a"}

# (slot, value, pattern); a value of "" records nothing but still consumes the words.
_PHRASE_RULES: tuple[tuple[str, str, str], ...] = (
    ("comparison", ">=", r"\bat least\b|\bor more\b|\bor above\b|\bor greater\b|"
                         r"\bno (less|fewer) than\b|\bnot (less|fewer) than\b|>="),
    ("comparison", "<=", r"\bat most\b|\bor less\b|\bor fewer\b|\bor below\b|"
                         r"\bno (more|greater) than\b|\bnot (more|greater) than\b|\bup to\b|<="),
    ("comparison", "between", r"\bbetween(?= (the )?(year )?\d)|\bin the range\b|\branging from\b"),
    ("comparison", ">", _COMPARATIVE.format("more|greater|larger|higher|bigger|longer|older|"
                                            "later|heavier|taller|costlier")
                        + r"|\babove\b|\bexceed(s|ed|ing)?\b|\bover(?= (a )?\d)|"
                          r"\b(after|since)(?=" + _DATE_AHEAD + ")|>"),
    ("comparison", "<", _COMPARATIVE.format("less|fewer|smaller|lower|shorter|younger|earlier|"
                                            "lighter|cheaper")
                        + r"|\bbelow\b|\bunder(?= (age )?\d)|\b(before|prior to)(?=" + _DATE_AHEAD + ")|<"),
    ("order", "desc", r"\bdescending\b|\bdecreasing\b|\bdesc\b|\brevers(e|ed)\b"),
    ("order", "asc", r"\bascending\b|\bincreasing\b|\basc\b|\b(alphabetic|lexicographic)(al)?(ly)?\b"),
    ("order", "asc", r"\bsort(ed|ing|s)?\b|\b(order|ordered|ordering|rank|ranked|arrange|arranged) by\b|"
                     r"\bin (\w+ ){0,2}order\b|^ (order|rank|arrange)\b"),
    ("aggregate", "", r"\bin total\b|\ball together\b|\baltogether\b|\boverall\b|"
                      r"\bcombined with\b"),
    ("extreme", "", r"\btop(?= (\d+ )?(\w+est|most|least)\b)"),
    ("extreme", "newest", r"\bmost recent(ly)?\b|\blatest\b|\bnewest\b|\byoungest\b"),
    ("extreme", "oldest", r"\bleast recent(ly)?\b|\boldest\b|\bearliest\b"),
    ("extreme", "max", r"\b(most|largest|greatest|highest|biggest|maximum|max|top) (total )?"
                       r"(number|count|amount) of\b"),
    ("extreme", "min", r"\b(least|fewest|smallest|lowest|minimum|min) (total )?"
                       r"(number|count|amount) of\b"),
    ("aggregate", "avg", r"\b(average|mean|avg) (total )?(number|count|amount) of\b"),
    ("aggregate", "count", r"\b(total|overall) (number|count)\b|\bhow many\b|\bnumber of\b|"
                           r"\bcount(s|ed|ing)?\b"),
    ("aggregate", "avg", r"\baverage\b|\bmean\b|\bavg\b"),
    ("aggregate", "sum", r"\btotal\b|\bsum\b"),
    ("extreme", "max", r"\bmost\b|\bmaximum\b|\bmax\b|\bhighest\b|\blargest\b|\bbiggest\b|"
                       r"\bgreatest\b|\btop\b(?! of)|\bbest\b|\blongest\b|\bheaviest\b|\btallest\b|"
                       r"\bfurthest\b|\bfarthest\b|\bpeak\b"),
    ("extreme", "min", r"\bleast\b|\bminimum\b|\bmin\b|\blowest\b|\bsmallest\b|\bfewest\b|"
                       r"\bshortest\b|\bbottom\b|\bworst\b|\bcheapest\b|\blightest\b|"
                       r"\bclosest\b|\bnearest\b"),
    ("change", "up", r"\b(increase|rise|grow|growth|gain|climb|jump|surge)(s|d|ed|ing|th)?\b"),
    ("change", "down", r"\b(decrease|decline|drop|fall|fell|shrink|dip|slump)(s|d|ed|ing|"
                       r"ped|ping|en)?\b"),
    ("negation", "not", r"\bnot\b|n't\b|\bno\b|\bnever\b|\bwithout\b|\bnone\b|\bneither\b|"
                        r"\bnor\b|\bexcept\b|\bexcluding\b|\bother than\b|\bapart from\b"),
    ("disjunction", "", r"\b(he|she|his|her|him) or (he|she|his|her|him)\b"),
    ("disjunction", "or", r"\bor\b|\beither\b"),
)

# Business measures: different groups are different questions; words in a group are synonyms.
_METRIC_GROUPS: dict[str, tuple[str, ...]] = {
    "revenue": ("revenue", "sales", "turnover"),
    "profit": ("profit", "profits", "earnings"),
    "margin": ("margin", "margins"),
    "quantity": ("quantity", "quantities", "units", "volume"),
    "discount": ("discount", "discounts"),
    "cost": ("cost", "costs", "expense", "expenses", "spend", "spending"),
}

# Opposites: one question using only one side and the other only the other side ask different
# things ("flights departing from" vs "arriving at"). Keyed by lemma.
_OPPOSITES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = tuple(
    (tuple(a.split()), tuple(b.split())) for a, b in (
        ("depart departing departed departure leave leaving left", "arrive arriving arrived arrival"),
        ("source origin", "destination"),
        ("start starting started begin beginning", "end ending ended finish finished"),
        ("first", "last"),
        ("buy bought buying purchase purchased", "sell sold selling"),
        ("import imported", "export exported"),
        ("male man men boy", "female woman women girl"),
        ("win won winning winner", "lose lost losing loss loser"),
        ("open opened opening", "close closed closing"),
        ("credit", "debit"),
        ("inbound incoming", "outbound outgoing"),
        ("accept accepted", "reject rejected"),
        ("pass passed", "fail failed"),
        ("morning", "evening night"),
        ("input", "output"),
        ("minimum", "maximum"),
    ))

_COMPASS = {
    "north": "north", "northern": "north", "south": "south", "southern": "south",
    "east": "east", "eastern": "east", "west": "west", "western": "west",
    "central": "central", "northeast": "northeast", "northwest": "northwest",
    "southeast": "southeast", "southwest": "southwest", "midwest": "midwest",
    "north-east": "northeast", "north-west": "northwest", "south-east": "southeast",
    "south-west": "southwest", "mid-west": "midwest",
}

# "by month" groups by month, unless it is a sort key ("sorted by year", "by year of opening").
_GROUPED_BY = r"(?<!sorted )(?<!ordered )(?<!sort )(?<!order )(?<!ranked )\bby {}\b(?! of)"
_PERIOD_RULES: tuple[tuple[str, str], ...] = (
    (r"\b(year|month|quarter|week)[- ]to[- ]date\b", r"\1_to_date"),
    (r"\b(ytd)\b", "year_to_date"), (r"\b(mtd)\b", "month_to_date"),
    (r"\b(qtd)\b", "quarter_to_date"), (r"\bto date\b", "to_date"),
    (r"\b(last|previous|prior|past|preceding) (\w+ )?" + _PERIOD_UNITS + r"s?\b", r"last:\3"),
    (r"\b(this|current|present) " + _PERIOD_UNITS + r"\b", r"this:\2"),
    (r"\bnext " + _PERIOD_UNITS + r"s?\b", r"next:\1"),
    (r"\b(yesterday)\b", "last:day"), (r"\b(today)\b", "this:day"),
    (r"\b(tomorrow)\b", "next:day"),
    (r"\b(daily|per day|each day)\b|" + _GROUPED_BY.format("day"), "grain:day"),
    (r"\b(weekly|per week|each week)\b|" + _GROUPED_BY.format("week"), "grain:week"),
    (r"\b(monthly|per month|each month)\b|" + _GROUPED_BY.format("month"), "grain:month"),
    (r"\b(quarterly|per quarter|each quarter)\b|" + _GROUPED_BY.format("quarter"), "grain:quarter"),
    (r"\b(yearly|annual|annually|per year|each year)\b|" + _GROUPED_BY.format("year"), "grain:year"),
    (r"\b(q[1-4])\b", r"quarter:\1"),
)

# Function words, request verbs and light verbs: never content, never a named value.
_STOPWORDS = frozenset(
    "a an the of in on at to for from by with and or but is are was were be been being am do does "
    "did doing done have has had having can could would will shall should might must what which "
    "who whom whose when where why how that this these those it its their theirs them they there "
    "here i me my we our us you your he she his her him all any each every some such both either "
    "so just only very too show shows showing list listing find give given return tell get "
    "display report provide identify retrieve please also as than then well along together "
    "different distinct unique corresponding respective respectively s select selected named "
    "called listed database ordered sorted arranged ranked want know need see sees saw seen get "
    "gets got gotten make makes made take takes took taken go goes went gone come came let".split()
)
_QUOTED = re.compile(r"\"([^\"]+)\"|“([^”]+)”|‘([^’]+)’|(?<![\w])'([^']+?)'(?![\w])")
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-.'’][A-Za-z0-9]+)*")
_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?![\w])|\b\d+(?=(st|nd|rd|th|s|k|m)\b)")
_SENTENCE_END = re.compile(r"[.?!;:]\s*$")


@dataclass(frozen=True)
class Slots:
    """What a question pins down, in normalised form."""

    numbers: frozenset[str] = frozenset()
    comparison: frozenset[str] = frozenset()
    order: frozenset[str] = frozenset()
    aggregate: frozenset[str] = frozenset()
    extreme: frozenset[str] = frozenset()
    change: frozenset[str] = frozenset()
    negation: frozenset[str] = frozenset()
    disjunction: frozenset[str] = frozenset()
    period: frozenset[str] = frozenset()
    metric: frozenset[str] = frozenset()
    place: frozenset[str] = frozenset()
    opposite: frozenset[str] = frozenset()
    entities: frozenset[str] = frozenset()
    content: frozenset[str] = field(default=frozenset(), compare=False)
    words: frozenset[str] = field(default=frozenset(), compare=False)


_BOTH_SIDED: tuple[str, ...] = ("metric", "place")
_SET_SLOTS: tuple[str, ...] = ("numbers", "comparison", "order", "aggregate", "extreme", "change",
                               "negation", "disjunction", "period", "metric", "place")


@dataclass(frozen=True)
class GuardVerdict:
    """Whether two questions may share an answer, and if not, which slots differ."""

    same: bool
    reasons: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.same


Guard = Callable[[str, str], GuardVerdict]


def lemma(word: str) -> str:
    """Lower-case ``word`` and strip a plural ending (companies → company, farms → farm)."""
    if re.fullmatch(r"[A-Z]{2,}s", word):
        return word[:-1].lower()
    w = word.lower().replace("’", "'")
    if w.endswith("'s") or w.endswith("s'"):
        w = w[:-2] if w.endswith("'s") else w[:-1]
    if len(w) <= 3 or not w.endswith("s") or w.endswith(("ss", "us", "is", "ous")):
        return w
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("ches", "shes", "xes", "sses", "zes")):
        return w[:-2]
    return w[:-1]


def canonical_word(word: str) -> str:
    """Lemma with synonyms folded: "sales"/"turnover" → "revenue", "western" → "west"."""
    w = lemma(word)
    return _METRIC_OF.get(w) or _COMPASS.get(w) or w


@lru_cache(maxsize=65536)
def extract_slots(question: str) -> Slots:
    """Read the slots of one question: numbers, comparisons, order, aggregates, extremes, change
    direction, negation, disjunction, periods, business metrics, compass places and named values
    (quoted strings, capitalised words not opening a sentence)."""
    question = " ".join(question.replace("’", "'").replace("‘", "'").split())
    quoted = [next(g for g in m.groups() if g) for m in _QUOTED.finditer(question)]
    unquoted = _QUOTED.sub(" , ", question)
    entities = {lemma(t) for q in quoted for t in _TOKEN.findall(q)} | _capitalised_words(unquoted)
    found: dict[str, set[str]] = {name: set() for name in _SET_SLOTS}
    text = _digits_for_number_words(" " + unquoted.lower() + " ", found["numbers"])
    text = _rewrite_integer_bounds(text)
    text = _take_periods(text, found["period"])
    text = _take_sort_ranges(text, found["order"])
    for slot, value, pattern in _COMPILED_RULES:
        text, hits = pattern.subn(" ", text)
        if hits and value:
            found[slot].add(value)
    if "desc" in found["order"]:
        found["order"] = {"desc"}
    found["numbers"] |= {_canonical_number(m.group()) for m in _NUMBER.finditer(text)}
    words = [lemma(t) for t in _TOKEN.findall(text)]
    found["metric"] = {_METRIC_OF[w] for w in words if w in _METRIC_OF}
    found["place"] = {_COMPASS[w] for w in words if w in _COMPASS}
    found["opposite"] = _opposite_sides(set(words))
    content = {canonical_word(w) for w in words if w not in _STOPWORDS and not w.isdigit()}
    content |= {canonical_word(t) for q in quoted for t in _TOKEN.findall(q)}
    return Slots(**{k: frozenset(v) for k, v in found.items()},
                 entities=frozenset(entities - _KEYWORDS), content=frozenset(content),
                 words=frozenset(lemma(t) for t in _TOKEN.findall(question)))


def compare_slots(a: Slots, b: Slots) -> list[str]:
    """List the slots on which ``a`` and ``b`` disagree (empty when they agree).

    Set-valued slots must be equal; opposite words clash pairwise ("depart" vs "arrive").
    Business metrics and compass places conflict only when both questions name one ("profit" vs
    "revenue", "West" vs "East"): a question naming none may use a word the lexicons lack, and a
    one-sided extra word is ``align``'s business. Named values conflict when each question has one
    the other does not mention (typos allowed).
    """
    reasons = [f"{name} differ: {_show(getattr(a, name))} vs {_show(getattr(b, name))}"
               for name in _SET_SLOTS
               if name not in _BOTH_SIDED and getattr(a, name) != getattr(b, name)]
    reasons += [f"{name} differ: {_show(getattr(a, name))} vs {_show(getattr(b, name))}"
                for name in _BOTH_SIDED
                if getattr(a, name) and getattr(b, name) and getattr(a, name) != getattr(b, name)]
    clashes = {v.split("=")[0] for v in a.opposite} & {v.split("=")[0] for v in b.opposite}
    reasons += [f"opposite words: {x} vs {y}" for x in sorted(a.opposite) for y in sorted(b.opposite)
                if x.split("=")[0] in clashes and x.split("=")[0] == y.split("=")[0] and x != y]
    missing_a = _unmentioned(a.entities, b.words)
    missing_b = _unmentioned(b.entities, a.words)
    if missing_a and missing_b:
        reasons.append(f"named values differ: {_show(missing_a)} vs {_show(missing_b)}")
    return reasons


def guard(q1: str, q2: str) -> GuardVerdict:
    """Refuse to treat ``q1`` and ``q2`` as the same question when any slot differs."""
    reasons = compare_slots(extract_slots(q1), extract_slots(q2))
    return GuardVerdict(same=not reasons, reasons=reasons)


def combine(*guards: Guard) -> Guard:
    """Stack guards: the pair is the same only if every guard says so; reasons are concatenated."""
    def combined(q1: str, q2: str) -> GuardVerdict:
        reasons = [r for g in guards for r in g(q1, q2).reasons]
        return GuardVerdict(same=not reasons, reasons=reasons)
    return combined


@dataclass(frozen=True)
class Alignment:
    """How well the content words of two questions pair up: ``score`` is the similarity of the
    worst-matched word to its closest counterpart (1.0 when every word occurs in both)."""

    score: float
    weakest: tuple[str, str, float] | None = None


class WordVectors(Protocol):
    """Per-word contextual vectors of a text, e.g. ``warehouse.language.embedding.EncodedText``."""

    words: tuple[str, ...]
    word_vectors: np.ndarray


def align(q1: str, v1: WordVectors, q2: str, v2: WordVectors) -> Alignment:
    """Pair each content word of either question with its closest content word of the other.

    Words in both questions (same lemma, or a typo of one: ``is_typo_of``) count as matched;
    every other word is scored by the cosine of its contextual vector with the closest content
    word of the other question. A word added on one side only ("… and their ages") or swapped for a
    different concept ("source" vs "destination") scores low; a synonym ("heads" vs "leaders")
    scores higher.
    """
    words1, vectors1 = _content_vectors(extract_slots(q1).content, v1)
    words2, vectors2 = _content_vectors(extract_slots(q2).content, v2)
    scored = _closest(words1, vectors1, words2, vectors2) + _closest(words2, vectors2, words1, vectors1)
    if not scored:
        return Alignment(score=1.0)
    weakest = min(scored, key=lambda item: item[2])
    return Alignment(score=weakest[2], weakest=weakest)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

_METRIC_OF = {lemma(word): group for group, words in _METRIC_GROUPS.items() for word in words}
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b")
_TENS_UNITS = re.compile(r"\b(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)[- ]"
                         r"(one|two|three|four|five|six|seven|eight|nine)\b")
_MULTIPLIED = re.compile(r"\b(\d+) (100|1000|1000000|1000000000)\b")
_ORDINAL = re.compile(r"(?<=\bthe )(" + "|".join(ORDINAL_WORDS) + r")\b")
_PRONOUN_ONE = re.compile(r"\b(" + "|".join(_PRONOUN_ONE_BEFORE) + r") one\b|"
                          r"\bone(?= *(?:[.,;:?!]|$| (?:in|at|on|that|which|who|whose|where)\b))")
_NUMBER_RANGE = re.compile(r"\b(?:from )?(\d+) to (\d+)\b")
_SORT_RANGE = re.compile(r"\bfrom (?:the )?(\w+) to (?:the )?(\w+)\b")
_COMPILED_BOUNDS = tuple((re.compile(p), c, o) for p, c, o in _INTEGER_BOUNDS)
_COMPILED_RULES = tuple((slot, value, re.compile(p)) for slot, value, p in _PHRASE_RULES)
_COMPILED_PERIODS = tuple((re.compile(p), r) for p, r in _PERIOD_RULES)
_KEYWORDS = frozenset(
    set(_NUMBER_WORDS) | set(ORDINAL_WORDS) | set(MONTHS) | set(_METRIC_OF) | set(_COMPASS)
    | _STOPWORDS | {w for _, _, p in _PHRASE_RULES for w in re.findall(r"[a-z]{2,}", p.replace(r"\b", " "))}
)


def _opposite_sides(words: set[str]) -> set[str]:
    """For each pair of opposites that the words touch on one side only: "depart/arrive=arrive"."""
    out = set()
    for one, other in _OPPOSITES:
        has_one, has_other = bool(words.intersection(one)), bool(words.intersection(other))
        if has_one != has_other:
            out.add(f"{one[0]}/{other[0]}={(one if has_one else other)[0]}")
    return out


def _digits_for_number_words(text: str, numbers: set[str]) -> str:
    """Write number words as digits ("two" → "2", "twenty five" → "25", "a single" → "1") and
    record ordinals ("the second highest") in ``numbers``; "one" as a pronoun is left alone."""
    def ordinal(m: re.Match[str]) -> str:
        numbers.add(f"ordinal:{ORDINAL_WORDS[m.group(1)]}")
        return " "

    text = _ORDINAL.sub(ordinal, text)
    text = re.sub(r"\ba single\b", " 1 ", text)
    text = _PRONOUN_ONE.sub(lambda m: f" {m.group(1) or ''} ", text)
    text = _TENS_UNITS.sub(lambda m: str(_NUMBER_WORDS[m.group(1)] + _NUMBER_WORDS[m.group(2)]), text)
    text = _NUMBER_WORD.sub(lambda m: str(_NUMBER_WORDS[m.group(1)]), text)
    return _MULTIPLIED.sub(lambda m: str(int(m.group(1)) * int(m.group(2))), text)


def _rewrite_integer_bounds(text: str) -> str:
    """Turn inclusive integer bounds into strict ones ("at least 2" → "more than 1")."""
    for pattern, comparison, offset in _COMPILED_BOUNDS:
        text = pattern.sub(lambda m: f" {comparison} {int(m.group(1)) + offset} ", text)
    return _NUMBER_RANGE.sub(r" between \1 and \2 ", text)


def _take_periods(text: str, periods: set[str]) -> str:
    """Record period expressions (relative periods, grains, quarters, months) and remove them."""
    for pattern, replacement in _COMPILED_PERIODS:
        for m in pattern.finditer(text):
            periods.add(m.expand(replacement).replace(" ", "_"))
        text = pattern.sub(" ", text)
    for token in re.findall(r"[a-z]+", text):
        month = (MONTHS[MONTH_ABBREVIATIONS[token] - 1] if token in MONTH_ABBREVIATIONS
                 else token if token in MONTHS and token != "may" else None)
        if month:
            periods.add(f"month:{month}")
    return text


def _take_sort_ranges(text: str, order: set[str]) -> str:
    """Read "from highest to lowest" / "from A to Z" style sort directions and remove them."""
    def direction(m: re.Match[str]) -> str:
        start, end = _scale_word(m.group(1)), _scale_word(m.group(2))
        if start in _HIGH_END and end in _LOW_END:
            order.add("desc")
        elif start in _LOW_END and end in _HIGH_END:
            order.add("asc")
        else:
            return m.group(0)
        return " "

    return _SORT_RANGE.sub(direction, text)


def _scale_word(word: str) -> str:
    """'highest' → 'high', 'larger' → 'large', 'biggest' → 'big'."""
    for suffix in ("est", "er"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            stem = word[: -len(suffix)]
            if len(stem) > 2 and stem[-1] == stem[-2]:
                stem = stem[:-1]
            return stem if stem in _HIGH_END | _LOW_END else stem + "e"
    return word


def _unmentioned(entities: frozenset[str], words: frozenset[str]) -> list[str]:
    """Named values not mentioned among ``words``, typos allowed (``is_typo_of``)."""
    return sorted(e for e in entities
                  if e not in words and not any(is_typo_of(e, w) for w in words))


def _capitalised_words(text: str) -> set[str]:
    """Lemmas of capitalised tokens that do not open a sentence ("West", "Aberdeen", "NY")."""
    out: set[str] = set()
    for m in _TOKEN.finditer(text):
        token = m.group()
        starts_sentence = not text[:m.start()].strip() or bool(_SENTENCE_END.search(text[:m.start()]))
        if token[0].isupper() and not starts_sentence and token != "I":
            out.add(lemma(token))
    return out


def _canonical_number(raw: str) -> str:
    """'2,000' → '2000', '3.50' → '3.5'."""
    value = float(raw.replace(",", ""))
    return str(int(value)) if value.is_integer() else repr(value)


def _show(values: object) -> str:
    """Render a slot value for a reason string."""
    if isinstance(values, (set, frozenset, list)):
        return "{" + ", ".join(sorted(map(str, values))) + "}" if values else "{}"
    return str(values)


def _content_vectors(content: frozenset[str], vectors: WordVectors) -> tuple[list[str], np.ndarray]:
    """Lemmas and vectors of the encoder's words that are content words of the question."""
    parts = content | {p for w in content for p in re.split(r"[-.']", w) if p}
    rows = [(canonical_word(w), i) for i, w in enumerate(vectors.words) if canonical_word(w) in parts]
    matrix = np.asarray(vectors.word_vectors, dtype=np.float32)[[i for _, i in rows]]
    return [w for w, _ in rows], matrix


def _closest(words: list[str], vectors: np.ndarray, other_words: list[str],
             other_vectors: np.ndarray) -> list[tuple[str, str, float]]:
    """(word, closest other word, cosine) for each word that the other side does not contain."""
    present = set(other_words)
    out = []
    for i, word in enumerate(words):
        if word in present or any(is_typo_of(word, o) for o in present):
            continue
        if not other_words:
            out.append((word, "", 0.0))
            continue
        sims = other_vectors @ vectors[i]
        j = int(sims.argmax())
        out.append((word, other_words[j], float(sims[j])))
    return out
