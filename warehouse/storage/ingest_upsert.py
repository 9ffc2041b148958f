"""Writing one staged file: order lines upserted by ``line_key``, bad rows to quarantine.

A staged good line whose key is already in ``orders`` is skipped when its content (the
canonical columns) is identical, and replaces the stored line when it differs (a correction).
A line with its own line id also matches a stored line that has none (loaded before line ids
were read, or from a file without them) through its declared key, so adding ids never doubles
lines. Every statement runs inside the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from warehouse.storage.canonical import CANONICAL_COLUMNS
from warehouse.storage.ingest_errors import EveryRowQuarantinedError
from warehouse.storage.ingest_sql import COPIES, LOADED_COLUMNS, RAW, REJECT_SCANS, REJECTS, STAGE, Source

MATCH = "_offpeak_ingest_match"
BAD = "_offpeak_ingest_bad"


@dataclass(frozen=True)
class Known:
    """How the good lines of the stage compare with ``orders``."""

    skipped: int   # identical to a stored line
    replaced: int  # same key, changed content


def match_known_lines(con: duckdb.DuckDBPyConnection) -> Known:
    """Match the good staged lines against ``orders`` into ``MATCH`` (one row per matched line)."""
    same = " AND ".join(f"s.{c} IS NOT DISTINCT FROM o.{c}" for c in CANONICAL_COLUMNS)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {MATCH} AS
        WITH by_key AS (
            SELECT s._row, o.line_key AS old_key, {same} AS same
            FROM {STAGE} s JOIN orders o ON o.line_key = s.line_key WHERE s._reason IS NULL),
        by_declared_key AS (
            SELECT s._row, o.line_key AS old_key, {same} AS same
            FROM {STAGE} s JOIN orders o ON o.line_key = s.op_key
            WHERE s._reason IS NULL AND s.line_key <> s.op_key AND o.line_id IS NULL
              AND NOT EXISTS (SELECT 1 FROM by_key k WHERE k._row = s._row))
        SELECT _row, bool_and(same) AS same, list(DISTINCT old_key) AS old_keys
        FROM (SELECT * FROM by_key UNION ALL SELECT * FROM by_declared_key) GROUP BY _row""")
    skipped, replaced = con.execute(
        f"SELECT count(*) FILTER (WHERE same), count(*) FILTER (WHERE NOT same) FROM {MATCH}").fetchone()
    return Known(skipped, replaced)


def delete_replaced_lines(con: duckdb.DuckDBPyConnection) -> None:
    """Delete the stored versions of the lines the stage corrects."""
    con.execute(f"DELETE FROM orders WHERE line_key IN "
                f"(SELECT unnest(old_keys) FROM {MATCH} WHERE NOT same)")


def insert_lines(con: duckdb.DuckDBPyConnection, source: Source) -> int:
    """Insert the good staged lines that are not already stored as they are, in file order;
    return how many."""
    cols = ", ".join(LOADED_COLUMNS)
    return con.execute(f"""
        INSERT INTO orders ({cols}, line_key, source_file, source_row)
        SELECT {cols}, line_key, ?, _row FROM {STAGE} s
        WHERE _reason IS NULL AND NOT EXISTS (SELECT 1 FROM {MATCH} m WHERE m._row = s._row AND m.same)
        ORDER BY _row""", [source.name]).fetchone()[0]


def insert_returns(con: duckdb.DuckDBPyConnection, source: Source) -> int:
    """Insert the good staged rows of a returns file; return how many."""
    return con.execute(f"INSERT INTO returns (order_id, source_file) "
                       f"SELECT order_id, ? FROM {STAGE} WHERE _reason IS NULL", [source.name]).fetchone()[0]


def quarantine_bad_rows(con: duckdb.DuckDBPyConnection, source: Source) -> int:
    """Insert checked-bad rows and (for CSV) rows DuckDB could not split into ``quarantine``;
    raise EveryRowQuarantinedError when no row of the file was good."""
    rejected = "" if source.parquet else f"""
        UNION ALL
        SELECT line - 1,
               string_agg(DISTINCT CASE
                   WHEN error_type IN ('MISSING COLUMNS', 'TOO MANY COLUMNS')
                       THEN 'wrong number of fields: ' || error_message
                   WHEN error_type = 'INVALID ENCODING' THEN 'row is not valid UTF-8'
                   ELSE lower(error_type) || ': ' || error_message END, '; '),
               to_json({{'csv_line': any_value(csv_line)}})::VARCHAR
        FROM {REJECTS} GROUP BY line"""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {BAD} AS
        SELECT _row AS row_number, _reason AS reason, _raw AS raw FROM {STAGE} WHERE _reason IS NOT NULL
        {rejected}""")
    bad, good = con.execute(f"SELECT (SELECT count(*) FROM {BAD}), "
                            f"(SELECT count(*) FROM {STAGE} WHERE _reason IS NULL)").fetchone()
    if bad and not good:
        raise EveryRowQuarantinedError(_every_row_message(con, source, bad))
    return con.execute(f"""
        INSERT INTO quarantine (source_file, row_number, reason, raw, quarantined_at)
        SELECT ?, row_number, reason, raw, now() FROM {BAD} ORDER BY row_number
    """, [source.name]).fetchone()[0]


def _every_row_message(con: duckdb.DuckDBPyConnection, source: Source, bad: int) -> str:
    """The file's name, its row count and the first two reasons, with their rows."""
    first = con.execute(f"SELECT row_number, reason FROM {BAD} ORDER BY row_number LIMIT 2").fetchall()
    examples = "; ".join(f"row {row}: {reason}" for row, reason in first)
    return f"{source.name}: every row ({bad:,}) was quarantined, nothing loaded ({examples})"


def drop_work_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the temp tables one file's ingest uses."""
    for table in (RAW, COPIES, STAGE, MATCH, BAD, REJECTS, REJECT_SCANS):
        con.execute(f"DROP TABLE IF EXISTS {table}")
