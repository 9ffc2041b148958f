"""The one lexicon every piece of language understanding shares: number words, ordinals, month
and weekday names with their abbreviations, and the edit distance behind typo handling.

``understanding`` (question → catalogue instance), ``slot_guard`` (do two questions differ in a
slot?) and the matcher read these; none keeps a copy of its own.
"""

from __future__ import annotations

NUMBER_WORDS: dict[str, int] = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000,
    "million": 1_000_000, "billion": 1_000_000_000, "dozen": 12,
}
# How many times: "once", "twice" state a number as surely as "one", "two".
MULTIPLICATIVE_WORDS: dict[str, int] = {"once": 1, "twice": 2, "thrice": 3}
# The N of "top N" spelled out: the words for one to twenty.
COUNT_WORDS: dict[str, int] = {w: n for w, n in NUMBER_WORDS.items() if 1 <= n <= 20 and w != "dozen"}
ORDINAL_WORDS: dict[str, int] = {
    "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10,
}

MONTHS: tuple[str, ...] = ("january", "february", "march", "april", "may", "june", "july", "august",
                           "september", "october", "november", "december")
# Abbreviation -> month number ("may" is its own abbreviation and a verb: not listed).
MONTH_ABBREVIATIONS: dict[str, int] = {m[:3]: i for i, m in enumerate(MONTHS, start=1) if m != "may"} | {"sept": 9}
WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Abbreviation -> weekday index (Monday = 0) beyond the plain names.
WEEKDAY_ABBREVIATIONS: dict[str, int] = {"tues": 1, "weds": 2, "thur": 3, "thurs": 3}



def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (an adjacent swap counts 1); ``limit + 1`` once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def is_typo_of(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are the same word up to a typo: one edit (insertion, deletion,
    substitution or swap of neighbours) for words of 5–7 letters, two for longer ones."""
    shorter = min(len(a), len(b))
    if a == b or shorter < 5:
        return a == b
    allowed = 1 if shorter < 8 else 2
    return abs(len(a) - len(b)) <= allowed and edit_distance(a, b, allowed) <= allowed

# Words that carry no slot of a sales question: articles, pronouns, prepositions, auxiliaries,
# question words, request and light verbs, greetings and hedges. Understanding accounts for every
# other word of a question (a metric, a dimension, a member, a period, a number, a cue) or refuses
# it; adding a word here lets it pass unread, so a word that can name a thing never belongs here.
FUNCTION_WORDS: frozenset[str] = frozenset("""
a an the of in on at to for from by with within into over about around across during since until
and or but nor so yet as than then also too either both
is are was were be been being am do does did doing done have has had having
can could would will shall should might must may
what which who whom whose when where why how whats hows
that this these those it its itself their theirs them they there here
i me my mine we our ours us you your yours he she his her him one
all any each every some such much many more most less few lot lots whole entire full total overall
combined altogether together
just only very really quite pretty roughly approximately exactly about around currently now
so far yet still again already ever
show shows showing shown list give gives tell get gets got pull see look looking looked check
find report display provide want wanted need needed know like would love interested curious
wondering wonder
please pls plz thanks thank thx hi hey hello ok okay quick quickly question q can
asap urgent urgently gimme deck slides slide via
go goes went going gone come came coming end ended ending finish finished close closed closing
land landed stand standing stood look perform performed performing
figure figures number numbers amount value values result results stat stats data metric metrics
kpi kpis level levels
company business we're were
against ahead behind stack stacks up down compare compared comparing comparison relative prior
previous
i'd i'm i've we've we'd let's it's that's what's how's there's you're
mind minute moment chance bother sorry good morning afternoon evening team folks guys someone anyone
put together send sending share pull pulled run grab update
way point spike spiked jump jumped rise rose risen rising fall fell fallen falling dip dipped
surge surged slump slumped soar soared tank tanked move moved win won gain gained acquire acquired
""".split())
