"""The semantic layer's words as understanding reads them: what names each dimension, which
dimensions "top N" ranks, and what "lost money" asks about."""

from __future__ import annotations

from warehouse.semantic.catalogue import DIMENSIONS, METRICS

# The words naming each dimension, and the dimensions "top N ..." ranks (from the semantic layer).
DIMENSION_WORDS: dict[str, tuple[str, ...]] = {d.name: d.synonyms for d in DIMENSIONS.values()}
RANKED = tuple(d.name for d in DIMENSIONS.values() if d.rank)
DIMENSION_OF_COLUMN = {d.column: d.name for d in DIMENSIONS.values()}
# Words that may stand just before a member and say nothing more ("shipped First Class").
MEMBER_WORDS: dict[str, tuple[str, ...]] = {d.name: d.member_words for d in DIMENSIONS.values()}
# What "lost money" and "most profitable" ask about: the layer's profitability metrics, the
# first of them in money when the question names none.
PROFITABILITY = tuple(m.name for m in METRICS.values() if m.profitability)
LOSS_METRIC = next((m.name for m in METRICS.values() if m.profitability and m.unit == "$"), None)
