"""Learned phrasings as stored: the first night's accepted (or needs-review) reading of each backlog
question text, with the latest admin decision from the question log. The night (which writes
``backlog_results``) and the snapshot publisher read them through this one query."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd

ACCEPTED, NEEDS_REVIEW = "accepted", "needs_review"
APPROVED, REJECTED_BY_ADMIN = "approved", "rejected_by_admin"
USABLE = (ACCEPTED, APPROVED)
REVIEW_EVENTS = {"learned_approve": APPROVED, "learned_reject": REJECTED_BY_ADMIN}
LEARNED_COLUMNS = ["question", "spec", "status", "learned_night", "asked_by", "model", "decided_by", "decided_at"]

# $night: the last night whose readings count; $morning: decisions made before it count.
LEARNED_SQL = f"""
    WITH first AS (
        SELECT question, spec, status, night AS learned_night, user_id AS asked_by, model,
               row_number() OVER (PARTITION BY question ORDER BY night, asked_at, user_id) AS k
        FROM backlog_results WHERE night <= $night AND status IN ('{ACCEPTED}', '{NEEDS_REVIEW}')),
    decisions AS (
        SELECT l.question, l.kind, l.user_id, l.asked_at,
               row_number() OVER (PARTITION BY l.question ORDER BY l.asked_at DESC, l.event_id) AS k
        FROM question_log l JOIN users u USING (user_id)
        WHERE l.kind IN ({", ".join(repr(k) for k in REVIEW_EVENTS)}) AND contains(u.access, 'admin')
          AND l.asked_at < $morning)
    SELECT f.question, f.spec,
           CASE d.kind {" ".join(f"WHEN '{k}' THEN '{v}'" for k, v in REVIEW_EVENTS.items())}
                ELSE f.status END AS status,
           f.learned_night, f.asked_by, f.model, d.user_id AS decided_by, d.asked_at AS decided_at
    FROM first f LEFT JOIN decisions d ON d.question = f.question AND d.k = 1
    WHERE f.k = 1 ORDER BY f.learned_night, f.question"""


def learned_rows(con: duckdb.DuckDBPyConnection, through: date) -> pd.DataFrame:
    """Every learned phrasing up to night ``through``, decisions made before the morning after it."""
    return con.execute(LEARNED_SQL, {"night": through, "morning": through + timedelta(days=1)}).df()
