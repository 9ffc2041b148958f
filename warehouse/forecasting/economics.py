"""The energy costs the forecast's economics and the savings use: measured where they exist.

- live cost per answer: the latest ``live_baseline`` row (the same prompts answered one at a time
  on the same engine, measured) — else ``ESTIMATED_LIVE_JOULES``, labelled an estimate;
- batch cost per answer: the latest night's measured energy divided by the answers it computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

# Used only before any live baseline was measured: a 1-8 B instruct model answering one request
# on a ~300 W GPU for ~1 s. An estimate, and every figure derived from it says so.
ESTIMATED_LIVE_JOULES = 300.0
ESTIMATED_BATCH_JOULES = 0.5


@dataclass(frozen=True)
class Costs:
    live_joules: float
    batch_joules: float
    method: str


def latest_run_energy(con: duckdb.DuckDBPyConnection, night: date) -> tuple[float, str | None]:
    """Joules of the latest run of ``night`` over all its assets, and the methods used."""
    row = con.execute("""
        WITH last AS (SELECT run_id FROM energy_log WHERE night = ? AND tier IS NULL
                      ORDER BY measured_at DESC LIMIT 1)
        SELECT coalesce(sum(joules), 0), string_agg(DISTINCT method, '+')
        FROM energy_log WHERE night = ? AND tier IS NULL AND run_id IN (SELECT run_id FROM last)""",
                      [night, night]).fetchall()[0]
    return float(row[0]), row[1]


def measured_costs(con: duckdb.DuckDBPyConnection, before: date) -> Costs:
    """Live and batch joules per answer as measured on nights before ``before``."""
    latest = con.execute("""SELECT joules_per_answer, method, model FROM live_baseline WHERE night < ?
                            ORDER BY night DESC, measured_at DESC LIMIT 1""", [before]).fetchall()
    live = latest[0] if latest else None
    last_night = con.execute("SELECT max(night) FROM answers WHERE night < ?", [before]).fetchall()[0][0]
    batch, batch_method = ESTIMATED_BATCH_JOULES, "estimate (no earlier night)"
    if last_night is not None:
        joules, methods = latest_run_energy(con, last_night)
        count = con.execute("SELECT count(*) FROM answers WHERE night = ?", [last_night]).fetchall()[0][0]
        if count and joules > 0:
            batch, batch_method = joules / count, f"{methods} over night {last_night}"
    if live:
        return Costs(float(live[0]), batch, f"live: measured ({live[1]}, {live[2]}); batch: {batch_method}")
    return Costs(ESTIMATED_LIVE_JOULES, batch,
                 f"live: estimate ({ESTIMATED_LIVE_JOULES:g} J per GPU answer, none measured yet); batch: {batch_method}")
