"""Record every asset's duration and energy in the warehouse, and return them as metadata."""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Iterator

import duckdb
from dagster import AssetExecutionContext, MaterializeResult

from pipelines.partitions import night_of
from pipelines.resources.energy import EnergyMeterResource, EnergyReading


@dataclass
class StepRecord:
    """What an asset did: counts for its metadata, plus its energy reading when done."""

    asset: str
    counts: dict[str, Any] = field(default_factory=dict)
    reading: EnergyReading | None = None

    def result(self, **extra: Any) -> MaterializeResult:
        """A MaterializeResult carrying counts, wall time and energy (with its method).

        A window too short to measure adds ``energy_note`` (the reading's detail), so its joules
        never pass for a measured zero.
        """
        r = self.reading
        metadata = {**self.counts, **extra}
        if r is not None:
            metadata.update(seconds=round(r.seconds, 3), joules=shown_joules(r.joules), energy_method=r.method)
            if r.too_short:
                metadata.update(energy_note=r.detail)
        return MaterializeResult(metadata=metadata)


def shown_joules(joules: float) -> float:
    """Joules rounded for metadata: 3 decimals, or 3 significant digits below 1 mJ (never 0.0
    for a non-zero reading)."""
    if joules == 0 or abs(joules) >= 0.001:
        return round(joules, 3)
    return float(f"{joules:.3g}")


def run_night(context: AssetExecutionContext) -> date:
    """The night a step belongs to: its partition, else its run's partition (an unpartitioned
    source inside a nightly run), else the night about to run (an ingest started by the sensor)."""
    if context.has_partition_key:
        return night_of(context.partition_key)
    tagged = context.run.tags.get("dagster/partition")
    return night_of(tagged) if tagged else date.today() - timedelta(days=1)


@contextmanager
def recorded(context: AssetExecutionContext, con: duckdb.DuckDBPyConnection,
             energy: EnergyMeterResource, asset: str, items: int | None = None) -> Iterator[StepRecord]:
    """Measure the block's energy and time; write ``asset_runs`` and ``energy_log`` rows."""
    night = run_night(context)
    record = StepRecord(asset)
    started = datetime.now()
    status = "failed"
    try:
        with energy.measure(asset) as reading:
            yield record
        status = "success"
    finally:
        record.reading = reading
        con.execute("INSERT INTO asset_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [night, context.run.run_id, asset, status, started, reading.seconds, reading.joules,
                     reading.method, json.dumps(record.counts, default=str)])
        con.execute("INSERT INTO energy_log VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, now())",
                    [night, context.run.run_id, asset, reading.method, reading.joules, reading.seconds,
                     record.counts.get("items", items), reading.detail])
