"""Turn a spec into the way a sales leader would type it: varied order, shorthand and typos."""

from __future__ import annotations

import random
import re
from datetime import date

from tests.independent.calendar_rules import resolve
from tests.independent.spec import Spec
from tests.independent.vocabulary import (CLOSERS, COMPARE_WORDS, DIMENSION_WORDS, METRIC_CLAUSES,
                                          METRIC_NOUNS, MONTH_SHORT, MONTHS, NUMBER_WORDS,
                                          OPENERS, PERIOD_WORDS, STATE_ABBREVIATIONS, UNANSWERABLE)

_KEYBOARD = {"a": "s", "s": "d", "e": "r", "r": "t", "i": "o", "o": "p", "n": "m", "t": "y",
             "l": "k", "u": "i", "c": "v", "d": "f", "m": "n", "h": "j", "g": "h"}


def period_phrase(kind: str, asked: date, month: int, rng: random.Random) -> str:
    """How the asker names the period."""
    text = rng.choice(PERIOD_WORDS[kind])
    start, _ = resolve(kind, asked, month) if kind == "named_month" else (asked, asked)
    return text.format(year=asked.year, last_year=asked.year - 1,
                       month=MONTHS[month - 1] if month else "",
                       mon=MONTH_SHORT[month - 1] if month else "", year_of_month=start.year)


def _value_word(column: str, value: str, rng: random.Random) -> str:
    if column == "State/Province" and value in STATE_ABBREVIATIONS and rng.random() < 0.25:
        return STATE_ABBREVIATIONS[value]
    return value if rng.random() < 0.3 else value.lower()


def filter_phrases(named: dict[str, str], rng: random.Random) -> tuple[str, str]:
    """(prefix, suffix) naming the question's own filters, e.g. ('west', '') or ('', 'for chairs')."""
    prefixes, suffixes = [], []
    for column, value in named.items():
        word = _value_word(column, value, rng)
        if column == "Region":
            forms = [(word, ""), (f"{word} region", ""), ("", f"in the {word}"), ("", f"for {word}")]
        elif column == "Segment":
            forms = [(f"{word} segment", ""), (word, ""), ("", f"from {word} customers"),
                     ("", f"in the {word} segment")]
        elif column == "Ship Mode":
            forms = [(word, ""), ("", f"shipped {word}"), ("", f"via {word}")]
        elif column == "Customer Name":
            forms = [("", f"from {word}"), ("", f"for {word}")]
        else:
            forms = [(word, ""), ("", f"in {word}"), ("", f"for {word}")]
        prefix, suffix = rng.choice(forms)
        (prefixes if prefix else suffixes).append(prefix or suffix)
    return " ".join(prefixes), " ".join(suffixes)


def _join(*parts: str) -> str:
    return re.sub(r"\s+", " ", " ".join(p for p in parts if p)).strip()


def _metric_noun(metric: str, rng: random.Random) -> str:
    return rng.choice(METRIC_NOUNS[metric])


def scalar_question(spec: Spec, named: dict[str, str], asked: date, rng: random.Random) -> str:
    """A single figure for a period."""
    p = period_phrase(spec.period, asked, spec.month, rng)
    prefix, suffix = filter_phrases(named, rng)
    if spec.metric in METRIC_CLAUSES and rng.random() < 0.35:
        clause = rng.choice(METRIC_CLAUSES[spec.metric])
        return _join(clause.format(f=_join(prefix, suffix), p=p))
    m = _metric_noun(spec.metric, rng)
    form = rng.randrange(4)
    if form == 0:
        return _join(rng.choice(OPENERS), prefix, m, suffix, p)
    if form == 1:
        return _join(p, prefix, m, suffix)
    if form == 2:
        return _join("what was", prefix, m, suffix, p)
    return _join(prefix, m, p, suffix)


def compare_question(spec: Spec, named: dict[str, str], asked: date, rng: random.Random) -> str:
    """A figure against the previous period or last year."""
    p = period_phrase(spec.period, asked, spec.month, rng)
    key = (spec.compare, spec.period) if spec.compare == "prev" else ("yoy", "*")
    c = rng.choice(COMPARE_WORDS[key])
    m = _metric_noun(spec.metric, rng)
    prefix, suffix = filter_phrases(named, rng)
    form = rng.randrange(5)
    if form == 0:
        return _join(prefix, m, suffix, p, c)
    if form == 1:
        return _join("how did", prefix, m, suffix, p, "compare", c.replace("vs ", "to ", 1))
    if form == 2:
        return _join(p, prefix, m, suffix, c)
    if form == 3:
        return _join("is", prefix, m, suffix, "up or down", p, c)
    return _join(rng.choice(OPENERS), prefix, m, p, suffix, c)


def _n_word(n: int, rng: random.Random) -> str:
    return NUMBER_WORDS[n] if n in NUMBER_WORDS and rng.random() < 0.3 else str(n)


def topn_question(spec: Spec, named: dict[str, str], asked: date, rng: random.Random) -> str:
    """Best or worst N members of a dimension by a metric."""
    plural, singular = DIMENSION_WORDS[spec.dimension]
    p = period_phrase(spec.period, asked, spec.month, rng)
    prefix, suffix = filter_phrases(named, rng)
    m = _metric_noun(spec.metric, rng) if "implicit" not in spec.note else ""
    n = _n_word(spec.n, rng)
    top = spec.order == "top"
    if spec.n == 1:
        d = rng.choice(singular)
        if spec.metric == "profit" and not top and rng.random() < 0.5:
            return _join("which", prefix, d, suffix, "lost the most money", p)
        most = "most" if top else "least"
        return rng.choice([_join("which", prefix, d, "had the", most, m, p, suffix),
                           _join("best" if top else "worst", prefix, d, suffix, p, "by", m)])
    d = rng.choice(plural)
    if not m:
        return _join(rng.choice(["top", "our top", "biggest"]), n, prefix, d, suffix, p)
    word = rng.choice(["top", "best", "biggest"] if top else ["bottom", "worst", "weakest"])
    form = rng.randrange(4)
    if form == 0:
        return _join(word, n, prefix, d, suffix, "by", m, p)
    if form == 1:
        return _join(word, n, prefix, d, p, "by", m, suffix)
    if form == 2:
        high = "highest" if top else "lowest"
        return _join("which", n, prefix, d, suffix, "had the", high, m, p)
    return _join(rng.choice(OPENERS), f"{word} {n}", prefix, d, "for", m, p, suffix)


def breakdown_question(spec: Spec, named: dict[str, str], asked: date, rng: random.Random) -> str:
    """A metric split by every member of a dimension."""
    plural, singular = DIMENSION_WORDS[spec.dimension]
    p = period_phrase(spec.period, asked, spec.month, rng)
    prefix, suffix = filter_phrases(named, rng)
    m, d = _metric_noun(spec.metric, rng), rng.choice(singular)
    return rng.choice([
        _join(prefix, m, suffix, "by", d, p), _join(prefix, m, p, "by", d, suffix),
        _join("break down", prefix, m, "by", d, p, suffix), _join(prefix, m, "split by", d, p, suffix),
        _join(prefix, m, "per", d, p, suffix),
        _join("how does", prefix, m, suffix, "split across", rng.choice(plural), p),
        _join(d, "breakdown of", prefix, m, p, suffix)])


def share_question(spec: Spec, named: dict[str, str], asked: date, rng: random.Random) -> str:
    """What share of the (filtered) total one part is."""
    p = period_phrase(spec.period, asked, spec.month, rng)
    whole = " ".join(_value_word(c, v, rng) for c, v in named.items())
    part = " ".join(_value_word(c, v, rng) for c, v in spec.share_part.items())
    m = _metric_noun(spec.metric, rng)
    whole = whole or rng.choice(["our", ""] if m.startswith("total") else ["total", "our", ""])
    return rng.choice([
        _join("what % of", whole, m, "came from", part, p),
        _join(part, "share of", whole, m, p),
        _join("what share of", whole, m, "was", part, p),
        _join(part, "as a % of", whole, m, p),
        _join("how much of", whole, m, p, "came from", part, "in %"),
        _join("% of", whole, m, "from", part, p)])


def trend_question(spec: Spec, named: dict[str, str], rng: random.Random) -> str:
    """Week-by-week or month-by-month figures over the last few complete periods."""
    prefix, suffix = filter_phrases(named, rng)
    m, k = _metric_noun(spec.metric, rng), spec.count
    if spec.grain == "week":
        return rng.choice([_join("weekly", prefix, m, "trend last", str(k), "weeks", suffix),
                           _join(prefix, m, "by week, last", str(k), "weeks", suffix),
                           _join(prefix, m, suffix, "week by week for the past", str(k), "weeks")])
    return rng.choice([_join("monthly", prefix, m, "last", str(k), "months", suffix),
                       _join(prefix, m, "by month for the last", str(k), "months", suffix),
                       _join(prefix, m, suffix, "trend over the last", str(k), "months")])


def unanswerable_question(named: dict[str, str], asked: date, rng: random.Random) -> str:
    """A question about something the orders do not record."""
    kind = rng.choice(["last_month", "last_week", "last_quarter", "year_to_date"])
    prefix, suffix = filter_phrases(named, rng)
    text = rng.choice(UNANSWERABLE).format(f=_join(prefix, suffix) or "",
                                           p=period_phrase(kind, asked, 0, rng))
    return _join(text)


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    op = rng.randrange(4)
    if op == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if op == 1:
        return word[:i] + word[i + 1:]
    if op == 2:
        return word[:i] + word[i] + word[i:]
    return word[:i] + _KEYBOARD.get(word[i], word[i]) + word[i + 1:]


def noise(text: str, rng: random.Random, typo_rate: float) -> str:
    """Casing, a closer and at most two typos in words of five letters or more."""
    words = text.split(" ")
    for _ in range(2):
        candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
        if candidates and rng.random() < typo_rate:
            i = rng.choice(candidates)
            words[i] = _typo(words[i], rng)
    text = " ".join(words) + rng.choice(CLOSERS)
    roll = rng.random()
    if roll < 0.65:
        return text.lower()
    if roll < 0.9:
        return text[:1].upper() + text[1:]
    return text
