"""The DuckDB files and what lives in them: the working warehouse's schema and migrations, sales
ingest, the users directory, the question log and the dashboard's event spool, and the published
snapshot (its typed contract, the publisher and the read functions the dashboard uses).

May import: the standard library, duckdb, pandas, pyarrow. Nothing else of ``warehouse``.
"""
