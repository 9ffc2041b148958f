"""The warehouse's own members (values of the layer's dimensions) as a question may name them,
with each member's place in the layer's hierarchies."""

from __future__ import annotations

import re

from warehouse.language.cues import FAMILY_CUES, YOY
from warehouse.language.layer_words import DIMENSION_OF_COLUMN, MEMBER_WORDS
from warehouse.semantic.catalogue import DIMENSIONS, ENTITY_COLUMNS, LAYER


class EntityIndex:
    """The warehouse's own dimension values, for finding entity names in question text."""

    def __init__(self, values: dict[str, list[str]],
                 parents: dict[tuple[str, str], dict[str, str]] | None = None):
        # (column, member) -> its ancestors' (column -> member), from the layer's hierarchies
        self.parents = parents or {}
        self.by_phrase: dict[str, tuple[str, str]] = {}
        for column in ENTITY_COLUMNS:
            for value in values.get(column, []):
                phrase = normalise(value)
                if phrase and phrase not in self.by_phrase:
                    self.by_phrase[phrase] = (column, value)
        # the layer's aliases of members the data holds ("tx" -> "texas"), read as the member's name
        self.aliases: dict[str, str] = {}
        for dimension in DIMENSIONS.values():
            members = set(values.get(dimension.column, []))
            for alias, member in dimension.aliases:
                if member in members and normalise(alias) not in self.by_phrase:
                    self.aliases[normalise(alias)] = normalise(member)
        self.max_words = max((len(p.split()) for p in self.by_phrase), default=1)
        self.vocabulary = frozenset(w for p in self.by_phrase for w in p.split() if len(w) >= 4)

    @classmethod
    def from_connection(cls, con) -> "EntityIndex":
        """Read the names in ``entity_values`` (built with ``sales_facts``) and, for each member
        of a hierarchy level, its parent where the data gives it exactly one."""
        values: dict[str, list[str]] = {}
        for column, value in con.execute("SELECT column_name, value FROM entity_values").fetchall():
            values.setdefault(column, []).append(value)
        parents: dict[tuple[str, str], dict[str, str]] = {}
        for chain in LAYER.hierarchies:
            columns = [DIMENSIONS[d].column for d in chain]
            for parent, child in zip(columns, columns[1:]):
                for member, above in con.execute(
                        f"SELECT {child}, min({parent}) FROM sales_facts WHERE {child} IS NOT NULL "
                        f"GROUP BY 1 HAVING count(DISTINCT {parent}) = 1").fetchall():
                    parents.setdefault((child, str(member)), {})[parent] = str(above)
        for (column, member), above in parents.items():   # grandparents: a city's region
            for parent, value in list(above.items()):
                for grand, grand_value in parents.get((parent, value), {}).items():
                    above.setdefault(grand, grand_value)
        return cls(values, parents)

    def expand_aliases(self, text: str) -> str:
        """Normalised ``text`` with each member alias written as the member's name."""
        if not self.aliases:
            return text
        return " ".join(self.aliases.get(w, w) for w in text.split())

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
    """Lower-case, unify dashes/quotes, read ``$`` as "dollars", keep letters, digits, % and spaces."""
    text = text.lower().replace("’", "'").replace("–", "-").replace("—", "-").replace("$", " dollars ")
    text = re.sub(r"[^a-z0-9%/'&\s-]", " ", text)
    text = text.replace("-", " ").replace("'s", "")
    return " ".join(text.split())


# Comparison phrases that read like a member's name ("same day last year" is not ship mode Same Day).
_COMPARISON_PHRASES = (YOY, r"\b(the|on) same (day|days)\b",
                       r"\bsame (day|days|point|time|period|week|month|quarter|year) "
                       r"(last|previous|prior|a|the|of|as|ly|in)\b")


def outside_comparisons(found: list[tuple[str, str, int]], text: str) -> list[tuple[str, str, int]]:
    """``found`` without the members whose words lie inside a comparison phrase, unless a word
    before the member says it is one ("via Same Day last month" is the ship mode)."""
    taken: set[int] = set()
    for pattern in _COMPARISON_PHRASES:
        for match in re.finditer(pattern, text):
            first = len(text[:match.start()].split())
            taken.update(range(first, first + len(match.group(0).split())))
    words = text.split()
    return [e for e in found if not taken & set(range(e[2], e[2] + len(normalise(e[1]).split())))
            or (e[2] > 0 and _names_a_member(words[e[2] - 1], e[0]))]


def _names_a_member(word: str, column: str) -> bool:
    """Whether ``word`` before a member of ``column`` says it is that member ("via", "shipped")."""
    member_words = MEMBER_WORDS.get(DIMENSION_OF_COLUMN.get(column, ""), ())
    return bool(member_words) and word in ("via",) + member_words


def outside_hierarchy(found: list[tuple[str, str, int]], scope: dict[str, str],
                       parents: dict[tuple[str, str], dict[str, str]]) -> str | None:
    """Why a named member cannot be in the question's scope: it lies under another member of a
    coarser level (Texas is in Central, not in the user's West; nor in the West a question names)."""
    named = {c: v for c, v, _ in found}
    for column, value, _ in found:
        for parent, above in parents.get((column, value), {}).items():
            if scope.get(parent, above) != above:
                return f"{value} is outside your scope ({parent}={scope[parent]}; {value} is in {above})"
            if named.get(parent, above) != above:
                return f"{value} is not in {named[parent]} (it is in {above}): ask about one of them"
    return None


def share_cue_at(text: str) -> int | None:
    """The word position of the first share cue ("share", "percentage of", "% of"), if any."""
    cue = re.search(dict(FAMILY_CUES)["share"], text)
    return None if cue is None else len(text[:cue.start()].split())


def share_part(outside: list[tuple[str, str, int]], found: list[tuple[str, str, int]],
                parents: dict[tuple[str, str], dict[str, str]], share_at: int | None) -> tuple[str, str, int]:
    """Which named member a share is the share *of*: one lying under another named member
    ("Machines share of Technology": Machines); else the one named before the cue when another
    follows it ("West share of Furniture revenue"); else the last ("share of revenue from West")."""
    named = {(c, v) for c, v, _ in found}
    under = [e for e in outside if any((p, v) in named for p, v in parents.get((e[0], e[1]), {}).items())]
    if under:
        return under[-1]
    if share_at is not None:
        before = [e for e in outside if e[2] < share_at]
        if before and any(e[2] > share_at for e in found):
            return before[-1]
    return outside[-1]
