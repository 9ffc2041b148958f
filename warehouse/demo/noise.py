"""The surface noise of real questions: small typos at a given rate.
"""

from __future__ import annotations

import numpy as np

from warehouse.demo.vocabulary import pick


def _typo(text: str, rng: np.random.Generator) -> str:
    """One small slip in a word of four letters or more: swapped, dropped or doubled letter."""
    words = text.split(" ")
    candidates = [i for i, word in enumerate(words) if len(word) >= 4 and word.isalpha()]
    if not candidates:
        return text
    i = pick(rng, candidates)
    word, pos = words[i], int(rng.integers(1, len(words[i]) - 1))
    kind = pick(rng, ("swap", "drop", "double"))
    if kind == "swap" and word[pos] != word[pos + 1]:
        word = word[:pos] + word[pos + 1] + word[pos] + word[pos + 2:]
    elif kind == "double":
        word = word[:pos] + word[pos] + word[pos:]
    else:
        word = word[:pos] + word[pos + 1:]
    words[i] = word
    return " ".join(words)


def add_typos(questions: list[str], rate: float, rng: np.random.Generator) -> list[str]:
    """Typos on about ``rate`` of the questions; ``rng`` is theirs alone, so nothing else moves."""
    hits = rng.random(len(questions)) < rate
    return [_typo(q, rng) if hit else q for q, hit in zip(questions, hits)]


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------
