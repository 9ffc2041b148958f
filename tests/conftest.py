"""Shared fixtures: the real Superstore sample in DuckDB, its entity index, the real embedder."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SUPERSTORE_ORDERS = SHARED / "superstore_sales" / "orders.csv.gz"
SUPERSTORE_RETURNS = SHARED / "superstore_sales" / "returns.csv"


def superstore_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse holding the real Superstore sample, with sales_facts built."""
    from warehouse.semantic.facts import build_sales_facts
    from warehouse.storage.ingest import ingest_file
    from warehouse.storage.schema import migrate

    if not SUPERSTORE_ORDERS.exists():
        pytest.skip(f"{SUPERSTORE_ORDERS} not found (tests read ../shared beside the checkout)")
    con = duckdb.connect()
    migrate(con)
    ingest_file(con, SUPERSTORE_ORDERS)
    ingest_file(con, SUPERSTORE_RETURNS)
    build_sales_facts(con)
    return con


@pytest.fixture(scope="session")
def superstore() -> duckdb.DuckDBPyConnection:
    return superstore_connection()


@pytest.fixture(scope="session")
def entities(superstore):
    from warehouse.language.understanding import EntityIndex
    return EntityIndex.from_connection(superstore)


@pytest.fixture(scope="session")
def embedder():
    from warehouse.language.embedding import load_embedder
    return load_embedder()
