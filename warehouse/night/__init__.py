"""The steps of one night as plain functions over a DuckDB connection, called by the Dagster
assets: plan the distinct instances, write tier-0 answers, build prompts, run the LLM cascade
(route, judge, fall back, live baseline) over any chat engine, and measure the savings.

May import: ``forecasting``, ``language``, ``semantic`` and ``storage``. Never ``offline`` or
``demo``.
"""
