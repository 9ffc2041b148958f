"""The working warehouse as a Dagster resource: one DuckDB file, one writer at a time."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import duckdb
from dagster import ConfigurableResource

from warehouse.storage.paths import OffpeakPaths, offpeak_paths
from warehouse.storage.schema import open_warehouse

WRITER_POOL = "duckdb_writer"


class WarehouseResource(ConfigurableResource):
    """Where the night reads and writes. ``home`` defaults to ``$OFFPEAK_HOME`` or the repo's
    ``warehouse/home``; every asset that writes runs in the ``duckdb_writer`` pool (limit 1)."""

    home: str | None = None

    @property
    def paths(self) -> OffpeakPaths:
        return offpeak_paths(self.home).ensure()

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection to the migrated working warehouse."""
        with open_warehouse(self.paths.warehouse_db) as con:
            yield con
