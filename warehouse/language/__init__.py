"""From a user's words to a catalogue instance, safely: one lexicon (number words, month and
weekday names, edit distance), question understanding, the slot guard, the sentence embedder,
the pair scorer and the matcher that Ask and the backtest share.

May import: ``warehouse.semantic`` and ``warehouse.storage``. Never ``forecasting``, ``night`` or
``offline``.
"""
