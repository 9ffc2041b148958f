"""Question-log files (``user_id,asked_at,question``): validated, loaded once, nothing lost.

A row's ``event_id`` is a hash of its user, time and text, so loading the same file twice (or
two files that overlap) adds each question once. ``asked_at`` is ISO 8601; a UTC offset is
ignored (the asker's wall-clock time is what places a question on a day). Rows with an unparseable timestamp or an empty
question go to ``quarantine`` with their line number; rows of users missing from the directory
are kept (they may be added later) and counted.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from warehouse.storage.schema import transaction

LOG_COLUMNS = ("user_id", "asked_at", "question")
# The longest question the product reads (the Ask box, the log, understanding): longer text is cut.
MAX_QUESTION_CHARS = 500


class LogFileError(ValueError):
    """A question-log file lacks the header user_id,asked_at,question."""


@dataclass
class LogIngestReport:
    files: int = 0
    rows_new: int = 0
    rows_known: int = 0
    rows_bad: int = 0
    unknown_users: int = 0


def event_id(user_id: str, asked_at: str, question: str) -> str:
    """The stable id of a logged question."""
    return "q" + hashlib.sha1(f"{user_id}\x1f{asked_at}\x1f{question}".encode()).hexdigest()[:20]


def read_log(path: Path) -> tuple[pd.DataFrame, list[tuple[int, str, str]]]:
    """Good rows (event_id, user_id, asked_at, question) and bad ones (line, reason, raw)."""
    good, bad = [], []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = [h.strip() for h in next(reader, [])]
        if tuple(header[:3]) != LOG_COLUMNS:
            raise LogFileError(f"{path.name}: header is {','.join(header)!r}; expected {','.join(LOG_COLUMNS)}")
        for line_no, row in enumerate(reader, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) < 3:
                bad.append((line_no, f"expected 3 fields, got {len(row)}", ",".join(row)))
                continue
            user_id, stamp, question = row[0].strip(), row[1].strip(), row[2].strip()
            try:
                # an offset ("+01:00", "Z") is dropped: the day a question belongs to is the
                # asker's own wall-clock day, as written
                asked_at = datetime.fromisoformat(stamp).replace(tzinfo=None)
            except ValueError:
                bad.append((line_no, f"asked_at {stamp!r} is not an ISO timestamp", ",".join(row)))
                continue
            if not user_id or not question:
                bad.append((line_no, "empty user_id or question", ",".join(row)))
                continue
            question = question[:MAX_QUESTION_CHARS]
            good.append((event_id(user_id, stamp, question), user_id, asked_at, question))
    frame = pd.DataFrame(good, columns=["event_id", "user_id", "asked_at", "question"])
    return frame.drop_duplicates("event_id"), bad


def ingest_question_logs(con: duckdb.DuckDBPyConnection, log_dir: Path) -> LogIngestReport:
    """Load every ``*.csv`` in ``log_dir``; rows already loaded are skipped by event id."""
    report = LogIngestReport()
    if not log_dir.exists():
        return report
    known_users = {r[0] for r in con.execute("SELECT user_id FROM users").fetchall()}
    for path in sorted(log_dir.glob("*.csv")):
        frame, bad = read_log(path)
        report.files += 1
        with transaction(con):
            con.register("_log", frame)
            try:
                before = con.execute("SELECT count(*) FROM question_log").fetchall()[0][0]
                con.execute("""INSERT INTO question_log
                    SELECT event_id, user_id, asked_at, question, 'ask', NULL, NULL, 'log', now() FROM _log
                    WHERE event_id NOT IN (SELECT event_id FROM question_log)""")
                added = con.execute("SELECT count(*) FROM question_log").fetchall()[0][0] - before
            finally:
                con.unregister("_log")
            known_bad = {r[0] for r in con.execute(
                "SELECT row_number FROM quarantine WHERE source_file = ?", [path.name]).fetchall()}
            fresh_bad = [(path.name, line, reason, raw) for line, reason, raw in bad if line not in known_bad]
            if fresh_bad:
                con.executemany("INSERT INTO quarantine VALUES (?, ?, ?, ?, now())", fresh_bad)
        report.rows_new += added
        report.rows_known += len(frame) - added
        report.rows_bad += len(bad)
        report.unknown_users += int((~frame["user_id"].isin(known_users)).sum())
    return report
