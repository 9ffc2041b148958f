"""Dashboard events without locks: append-only spool files, ingested exactly once at night.

The dashboard never opens the working warehouse. Each batch of events becomes one small JSON-lines
file, written to a temporary name and renamed into place, so a reader never sees half a file. The
nightly ingest inserts events whose ``event_id`` is new, commits, and only then moves the file to
``archive/``: a crash between the two leaves the file in the spool and the next night skips the
events it already has.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from warehouse.storage.schema import transaction

EVENT_KINDS = ("view", "ask", "hit", "miss", "live", "live_sql", "learned_approve", "learned_reject")
_SPOOL_SUFFIX = ".jsonl"


@dataclass(frozen=True)
class Event:
    """One thing a dashboard user did: viewed an answer, asked, got a hit or a miss."""

    user_id: str
    kind: str
    question: str | None = None
    answer_id: str | None = None
    similarity: float | None = None
    at: str = field(default_factory=lambda: datetime.now().isoformat(timespec="seconds"))
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {self.kind!r}; use one of {', '.join(EVENT_KINDS)}")


def append_events(spool_dir: Path, events: list[Event]) -> Path | None:
    """Write ``events`` as one new spool file (atomic rename); return its path."""
    if not events:
        return None
    spool_dir.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:12]}"   # sorts in write order
    tmp = spool_dir / f".{name}.tmp"
    final = spool_dir / f"{name}{_SPOOL_SUFFIX}"
    with open(tmp, "w", encoding="utf-8") as fh:
        for event in events:
            fh.write(json.dumps(asdict(event)) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    return final


def spool_files(spool_dir: Path) -> list[Path]:
    """Complete spool files waiting for the nightly ingest, oldest first."""
    if not spool_dir.exists():
        return []
    return sorted(p for p in spool_dir.iterdir() if p.is_file() and p.suffix == _SPOOL_SUFFIX)


def _read_spool_file(path: Path) -> tuple[list[dict], int]:
    rows, bad = [], 0
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
            Event(**record)  # validates kind and fields
            rows.append(record)
        except (ValueError, TypeError):
            bad += 1
    return rows, bad


@dataclass
class SpoolIngestReport:
    files: int = 0
    events_new: int = 0
    events_already_loaded: int = 0
    malformed_lines: int = 0


def ingest_spool(con: duckdb.DuckDBPyConnection, spool_dir: Path) -> SpoolIngestReport:
    """Load every spool file's new events into ``question_log`` once, then archive the file."""
    report = SpoolIngestReport()
    archive = spool_dir / "archive"
    for path in spool_files(spool_dir):
        rows, bad = _read_spool_file(path)
        report.malformed_lines += bad
        frame = pd.DataFrame(rows, columns=["event_id", "user_id", "at", "kind", "question",
                                            "answer_id", "similarity"])
        frame = frame.drop_duplicates("event_id")
        with transaction(con):
            con.register("_events", frame)
            try:
                before = con.execute("SELECT count(*) FROM question_log").fetchall()[0][0]
                con.execute("""
                    INSERT INTO question_log
                    SELECT e.event_id, e.user_id, CAST(e.at AS TIMESTAMP), e.question, e.kind,
                           e.answer_id, CAST(e.similarity AS DOUBLE), 'dashboard', now()
                    FROM _events e
                    WHERE e.event_id NOT IN (SELECT event_id FROM question_log)
                """)
                added = con.execute("SELECT count(*) FROM question_log").fetchall()[0][0] - before
            finally:
                con.unregister("_events")
        report.events_new += added
        report.events_already_loaded += len(frame) - added
        report.files += 1
        archive.mkdir(parents=True, exist_ok=True)
        os.replace(path, archive / path.name)
    return report
