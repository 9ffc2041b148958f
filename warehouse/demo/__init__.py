"""Deterministic demo data: order lines with planted anomalies, a users directory, and a
question-log simulator (vocabulary, personas, wording, reactions to the data, noise).

May import: ``warehouse.storage``. Only ``make demo``, the benches and the tests use it.
"""
