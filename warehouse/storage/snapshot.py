"""Publish a night as an immutable serving snapshot; find and open the current one read-only.

Publishing copies the night's serving tables into a brand-new DuckDB file, closes it, and then
swaps the ``CURRENT`` pointer file with an atomic rename. A dashboard therefore opens either the
previous snapshot or the new one, never a half-written file, and never the working warehouse.
The tables, their columns and the ``meta`` record follow ``warehouse.storage.contract``.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date, datetime
from pathlib import Path

import duckdb

from warehouse.storage.learned import LEARNED_SQL
from warehouse.storage.contract import META_COLUMNS, META_TABLE, TABLES, SnapshotMeta

POINTER_NAME = "CURRENT"
_SNAPSHOT_NAME = re.compile(r"night-(\d{4}-\d{2}-\d{2})-\d{8}T\d{12}\.duckdb")
KEEP_SNAPSHOTS = 7
HISTORY_NIGHTS = 60

# Which rows of the working warehouse each contract table holds ($night = the night published).
SOURCES: dict[str, str] = {
    "users": "SELECT * FROM users",
    "answers": "SELECT * FROM answers WHERE night = $night",
    "answer_phrasings": "SELECT * FROM answer_phrasings WHERE night = $night",
    "briefings": "SELECT * FROM briefings WHERE night = $night",
    # savings of night K's answers are measured on day K+1 (by night K+1's run): a snapshot holds
    # only what was known when its night first ran, so a re-run publishes the same rows
    "savings": "SELECT * FROM savings WHERE night < $night",
    "energy_log": "SELECT * FROM energy_log WHERE night > $night - $history AND night <= $night",
    "asset_runs": "SELECT * FROM asset_runs WHERE night > $night - $history AND night <= $night",
    "live_baseline": "SELECT * FROM live_baseline WHERE night <= $night",
    "data_signals": "SELECT * FROM data_signals WHERE night = $night",
    "unmapped_questions": """SELECT * FROM unmapped_questions
                             WHERE night > $night - $history AND night <= $night""",
    "backlog_results": """SELECT * FROM backlog_results
                          WHERE night > $night - $history AND night <= $night""",
    "learned_phrasings": f"SELECT * FROM ({LEARNED_SQL})",
    "llm_quality": "SELECT * FROM llm_quality WHERE night > $night - $history AND night <= $night",
    "quarantine_summary": """SELECT source_file, reason, count(*) AS rows,
                                    max(quarantined_at) AS last_at
                             FROM quarantine GROUP BY ALL ORDER BY rows DESC""",
    "quarantine_sample": "SELECT * FROM quarantine ORDER BY quarantined_at DESC LIMIT 200",
    "ingested_files": "SELECT * FROM ingested_files ORDER BY ingested_at DESC LIMIT 200",
    "entity_values": "SELECT * FROM entity_values",
    "sales_facts": "SELECT * FROM sales_facts WHERE order_date < $morning",
}


class NoSnapshotError(LookupError):
    """No night has been published yet: run `offpeak night` (or `make demo`) first."""


def _pointer(snapshots_dir: Path) -> Path:
    return snapshots_dir / POINTER_NAME


def publish_snapshot(con: duckdb.DuckDBPyConnection, snapshots_dir: Path, meta: SnapshotMeta) -> Path:
    """Write ``meta.night``'s contract tables and ``meta`` to a new snapshot file and point
    ``CURRENT`` at it, unless ``CURRENT`` already serves a later night (a backfill of an old night
    is kept beside it, and the dashboard stays on the newest briefing)."""
    night = meta.night
    snapshots_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S%f")
    final = snapshots_dir / f"night-{night.isoformat()}-{stamp}.duckdb"
    partial = final.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    con.execute(f"ATTACH '{partial}' AS snap")
    try:
        params = {"night": night, "history": HISTORY_NIGHTS, "morning": meta.as_of}
        for name, table in TABLES.items():
            select = SOURCES[name]
            used = {k: v for k, v in params.items() if f"${k}" in select}
            cols = ", ".join(table.column_names)
            con.execute(table.create_sql("snap"))
            con.execute(f"INSERT INTO snap.{name} ({cols}) SELECT {cols} FROM ({select})", used)
        con.execute(f"CREATE TABLE snap.{META_TABLE} ({META_COLUMNS})")
        con.executemany(f"INSERT INTO snap.{META_TABLE} VALUES (?, ?)", meta.to_rows())
    finally:
        con.execute("DETACH snap")
    os.replace(partial, final)
    current = current_snapshot(snapshots_dir)
    if current is None or night_of_snapshot(current) <= night:
        _write_pointer(snapshots_dir, final.name)
        current = final
    _prune(snapshots_dir, keep={final.name, current.name})
    return final


def night_of_snapshot(path: Path) -> date:
    """The night a snapshot file serves, from its name (``night-YYYY-MM-DD-<stamp>.duckdb``)."""
    match = _SNAPSHOT_NAME.fullmatch(path.name)
    if match is None:
        raise ValueError(f"{path.name} is not a snapshot file name")
    return date.fromisoformat(match.group(1))


def latest_snapshot_of(snapshots_dir: Path, night: date) -> Path | None:
    """The newest snapshot file published for ``night`` (current or not), or None."""
    files = sorted(snapshots_dir.glob(f"night-{night.isoformat()}-*.duckdb"), key=lambda p: p.name)
    return files[-1] if files else None


def _write_pointer(snapshots_dir: Path, file_name: str) -> None:
    tmp = snapshots_dir / f".{POINTER_NAME}.tmp"
    tmp.write_text(file_name + "\n", encoding="utf-8")
    os.replace(tmp, _pointer(snapshots_dir))


def _prune(snapshots_dir: Path, keep: set[str]) -> None:
    """Delete all but the newest KEEP_SNAPSHOTS snapshot files (never one named in ``keep``)."""
    files = sorted(snapshots_dir.glob("night-*.duckdb"), key=lambda p: p.name, reverse=True)
    for old in files[KEEP_SNAPSHOTS:]:
        if old.name not in keep:
            old.unlink(missing_ok=True)


def current_snapshot(snapshots_dir: Path) -> Path | None:
    """The published snapshot ``CURRENT`` points at, or None before the first night."""
    pointer = _pointer(snapshots_dir)
    if not pointer.exists():
        return None
    target = snapshots_dir / pointer.read_text(encoding="utf-8").strip()
    return target if target.exists() else None


def open_snapshot(path: Path) -> duckdb.DuckDBPyConnection:
    """Open a snapshot read-only (many readers, no writer ever touches it)."""
    return duckdb.connect(str(path), read_only=True)


def snapshot_meta(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """The ``meta`` table as raw JSON-decoded values, for diagnostics; readers use
    ``serving.snapshot_info`` (the contract's typed record)."""
    return {k: json.loads(v) for k, v in con.execute(f"SELECT key, value FROM {META_TABLE}").fetchall()}
