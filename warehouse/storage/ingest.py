"""Load sales files (CSV, CSV.gz, Parquet) from the drop folder into the working warehouse.

Each file is loaded exactly once (its content's sha256 goes to ``ingested_files``), in one
transaction: good rows go to ``orders`` (or ``returns``), malformed rows to ``quarantine`` with
their 1-based data row number and a reason. Parsing and validation run in DuckDB SQL.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb

from warehouse.storage.canonical import (
    CANONICAL_COLUMNS, DATE_COLUMNS, KEY_COLUMNS, NUMERIC_COLUMNS, REQUIRED_COLUMNS,
    SUPERSTORE_HEADERS,
)
from warehouse.storage.schema import transaction

SUPPORTED_SUFFIXES: tuple[str, ...] = (".csv", ".csv.gz", ".parquet")

_STAGE = "_offpeak_ingest_stage"
_REJECTS = "_offpeak_ingest_rejects"
_REJECT_SCANS = "_offpeak_ingest_reject_scans"
_SUPERSTORE_ONLY = {h.lower() for h, c in SUPERSTORE_HEADERS.items() if h.lower() != c}
_HEADER_LOOKUP: dict[str, str] = {
    **{h.lower(): c for h, c in SUPERSTORE_HEADERS.items()},
    **{c: c for c in CANONICAL_COLUMNS},
    "returned": "returned",
}
_RETURNS_COLUMNS = {"order_id", "returned"}
_TRUTHY = ("yes", "y", "true", "1")
_NUMERIC_TYPES = ("DOUBLE", "FLOAT", "DECIMAL", "INTEGER", "BIGINT", "SMALLINT", "TINYINT",
                  "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "UHUGEINT")


class IngestError(Exception):
    """A sales file was rejected whole; nothing of it was written."""


class MissingColumnsError(IngestError):
    """The file lacks columns its layout requires; add them (or fix the header) and drop it again."""


class UnreadableFileError(IngestError):
    """The file cannot be read as CSV, CSV.gz or Parquet; re-export it and drop it again."""


@dataclass(frozen=True)
class IngestReport:
    """What loading one file did; ``duplicate`` means its content was loaded before."""

    file: Path
    layout: str  # 'canonical' | 'superstore' | 'returns'
    rows_loaded: int
    rows_quarantined: int
    duplicate: bool = False


@dataclass(frozen=True)
class IngestFailure:
    """A file of the drop folder that was rejected whole, with the one-line reason."""

    file: Path
    error: str


@dataclass(frozen=True)
class _Plan:
    """How to read one file: which source header feeds which canonical column."""

    kind: str  # 'orders' | 'returns'
    layout: str
    sources: dict[str, tuple[str, str]]  # canonical column -> (source header, DuckDB type)
    headers: list[str]


def is_supported(path: Path) -> bool:
    """True for a visible ``.csv``, ``.csv.gz`` or ``.parquet`` file name."""
    name = path.name.lower()
    return not name.startswith((".", "~")) and name.endswith(SUPPORTED_SUFFIXES)


def supported_files(drop_dir: Path) -> list[Path]:
    """The supported files directly inside ``drop_dir``, in name order (none if it is missing)."""
    if not drop_dir.is_dir():
        return []
    return sorted((p for p in drop_dir.iterdir() if p.is_file() and is_supported(p)),
                  key=lambda p: p.name)


def file_sha256(path: Path) -> str:
    """The sha256 hex digest of the file's bytes."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


_HASH_CACHE: dict[tuple[str, int, int], str] = {}


def _cached_sha256(path: Path) -> str:
    """``file_sha256`` remembered per (path, size, mtime), so a polling sensor stays cheap."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _HASH_CACHE:
        _HASH_CACHE[key] = file_sha256(path)
    return _HASH_CACHE[key]


def pending_files(con: duckdb.DuckDBPyConnection, drop_dir: Path) -> list[Path]:
    """Supported files in ``drop_dir`` whose content is not in ``ingested_files`` yet."""
    files = supported_files(drop_dir)
    if not files:
        return []
    hashes = [_cached_sha256(p) for p in files]
    known = {r[0] for r in con.execute(
        "SELECT sha256 FROM ingested_files WHERE list_contains(?, sha256)", [hashes]).fetchall()}
    return [p for p, h in zip(files, hashes) if h not in known]


def ingest_drop_folder(con: duckdb.DuckDBPyConnection, drop_dir: Path,
                       progress: Callable[[str], None] | None = None,
                       ) -> list[IngestReport | IngestFailure]:
    """Ingest every supported file of ``drop_dir`` in name order; a rejected file does not stop the rest.

    Files stay where they are: re-ingesting the same content is a no-op.
    """
    say = progress or (lambda _msg: None)
    results: list[IngestReport | IngestFailure] = []
    for path in supported_files(drop_dir):
        try:
            report = ingest_file(con, path)
        except IngestError as exc:
            results.append(IngestFailure(path, str(exc)))
            say(f"{path.name}: rejected: {exc}")
            continue
        results.append(report)
        if report.duplicate:
            say(f"{path.name}: already ingested, skipped")
        else:
            say(f"{path.name}: {report.rows_loaded:,} rows loaded, "
                f"{report.rows_quarantined:,} quarantined ({report.layout})")
    return results


def ingest_file(con: duckdb.DuckDBPyConnection, path: Path) -> IngestReport:
    """Load one sales or returns file, all or nothing; raise MissingColumnsError/UnreadableFileError.

    Good rows go to ``orders`` (or ``returns``), malformed rows to ``quarantine``; the content's
    sha256 goes to ``ingested_files`` so the same content is never loaded twice.
    """
    path = Path(path)
    if not is_supported(path):
        raise UnreadableFileError(f"{path.name}: unsupported file type; use {', '.join(SUPPORTED_SUFFIXES)}")
    if not path.is_file():
        raise UnreadableFileError(f"{path.name}: no such file")
    if path.stat().st_size == 0:
        raise UnreadableFileError(f"{path.name}: the file is empty")
    sha = file_sha256(path)
    plan = _plan(path, _describe(con, path))
    with transaction(con):
        if con.execute("SELECT count(*) FROM ingested_files WHERE sha256 = ?", [sha]).fetchone()[0]:
            return IngestReport(path, plan.layout, 0, 0, duplicate=True)
        _stage(con, path, plan)
        loaded = _load_good_rows(con, path, plan)
        quarantined = _quarantine_bad_rows(con, path)
        _record_file(con, sha, path, plan, loaded, quarantined)
        _drop_stage(con)
    return IngestReport(path, plan.layout, loaded, quarantined)


def _is_parquet(path: Path) -> bool:
    return path.name.lower().endswith(".parquet")


def _reader_sql(path: Path, csv_options: str = "") -> str:
    """A table-function call reading ``path`` (bound as the single ``?`` parameter)."""
    if _is_parquet(path):
        return "read_parquet(?)"
    return f"read_csv(?, all_varchar=true, header=true, quote='\"', escape='\"'{csv_options})"


def _one_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _describe(con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[str, str]]:
    """The file's (header, DuckDB type) pairs; raise UnreadableFileError if it cannot be parsed."""
    kind = "Parquet" if _is_parquet(path) else "CSV"
    try:
        sql = f"DESCRIBE SELECT * FROM {_reader_sql(path, ', ignore_errors=true')}"
        rows = con.execute(sql, [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise UnreadableFileError(f"{path.name}: cannot be read as {kind}: {_one_line(exc)}") from None
    return [(r[0], r[1]) for r in rows]


def _plan(path: Path, described: list[tuple[str, str]]) -> _Plan:
    """Detect the layout from the header and map source columns; raise MissingColumnsError."""
    headers = [h for h, _ in described]
    sources: dict[str, tuple[str, str]] = {}
    for header, dtype in described:
        canonical = _HEADER_LOOKUP.get(header.strip().lstrip("\ufeff").lower())
        if canonical and canonical not in sources:
            sources[canonical] = (header, dtype)
    superstore = any(h.strip().lower() in _SUPERSTORE_ONLY for h in headers)
    if "order_id" in sources and set(sources) <= _RETURNS_COLUMNS:
        return _Plan("returns", "returns", sources, headers)
    layout = "superstore" if superstore else "canonical"
    missing = [c for c in REQUIRED_COLUMNS if c not in sources]
    if missing:
        raise MissingColumnsError(_missing_message(path, layout, missing, headers if not sources else []))
    return _Plan("orders", layout, sources, headers)


def _missing_message(path: Path, layout: str, missing: list[str], found: list[str]) -> str:
    """Name the missing columns the way the detected layout spells them."""
    if found:
        return (f"{path.name}: no sales columns in header {', '.join(found[:8])}; expected the canonical "
                f"layout ({', '.join(REQUIRED_COLUMNS)}) or Tableau Superstore headers (Order ID, ...)")
    if layout == "canonical":
        return (f"{path.name}: missing column(s) {', '.join(missing)}; the canonical layout needs "
                f"{', '.join(REQUIRED_COLUMNS)}")
    names: dict[str, str] = {}
    for header, canonical in SUPERSTORE_HEADERS.items():
        names[canonical] = f"{names[canonical]} (or {header})" if canonical in names else header
    return (f"{path.name}: missing column(s) {', '.join(names[c] for c in missing)}; "
            f"expected the Tableau Superstore layout")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _text_expr(header: str) -> str:
    """The column as trimmed text, empty strings as NULL."""
    return f"NULLIF(TRIM(CAST({_ident(header)} AS VARCHAR)), '')"


def _date_expr(header: str, dtype: str) -> str:
    """The column as a DATE: ISO yyyy-mm-dd (time of day dropped) or US m/d/yyyy; NULL if neither."""
    if dtype == "DATE" or dtype.startswith("TIMESTAMP"):
        return f"CAST({_ident(header)} AS DATE)"
    text = _text_expr(header)
    return f"COALESCE(TRY_CAST({text} AS DATE), CAST(TRY_STRPTIME({text}, '%m/%d/%Y') AS DATE))"


def _number_expr(header: str, dtype: str) -> str:
    """The column as a finite DOUBLE; NULL if it is not a number."""
    if dtype.split("(")[0] in _NUMERIC_TYPES:
        value = f"CAST({_ident(header)} AS DOUBLE)"
    else:
        value = f"TRY_CAST({_text_expr(header)} AS DOUBLE)"
    return f"CASE WHEN isfinite({value}) THEN {value} END"


def _shown(text_sql: str) -> str:
    """SQL quoting a bad value for a reason message, cut to 60 characters."""
    return f"'''' || left({text_sql}, 60) || ''''"


def _order_checks(plan: _Plan) -> tuple[list[tuple[str, str]], list[str]]:
    """(column, SQL expression) for the typed canonical columns, and the reason parts of a bad row."""
    items: list[tuple[str, str]] = []
    reasons: list[str] = []
    for column in CANONICAL_COLUMNS:
        if column not in plan.sources:
            items.append((column, "NULL::VARCHAR"))
            continue
        header, dtype = plan.sources[column]
        text = _text_expr(header)
        if column in DATE_COLUMNS:
            parsed = _date_expr(header, dtype)
            reasons.append(f"CASE WHEN {text} IS NOT NULL AND {parsed} IS NULL "
                           f"THEN '{column} ' || {_shown(text)} || ' is not a date' END")
        elif column in NUMERIC_COLUMNS:
            parsed = _number_expr(header, dtype)
            reasons.append(f"CASE WHEN {text} IS NOT NULL AND {parsed} IS NULL "
                           f"THEN '{column} ' || {_shown(text)} || ' is not a number' END")
        else:
            parsed = text
        if column in KEY_COLUMNS:
            reasons.append(f"CASE WHEN {text} IS NULL THEN 'missing {column}' END")
        items.append((column, parsed))
    return items, reasons


def _returns_checks(plan: _Plan) -> tuple[list[tuple[str, str]], list[str]]:
    """(column, SQL expression) and reason parts for a returns file (``order_id`` [, ``returned``])."""
    order_id = _text_expr(plan.sources["order_id"][0])
    reasons = [f"CASE WHEN {order_id} IS NULL THEN 'missing order_id' END"]
    if "returned" in plan.sources:
        flag = _text_expr(plan.sources["returned"][0])
        truthy = ", ".join(_literal(t) for t in _TRUTHY)
        reasons.append(f"CASE WHEN lower(coalesce({flag}, 'yes')) NOT IN ({truthy}) "
                       f"THEN 'Returned ' || {_shown(flag)} || ' is not Yes' END")
    return [("order_id", order_id)], reasons


def _stage(con: duckdb.DuckDBPyConnection, path: Path, plan: _Plan) -> None:
    """Read, type and check every row into a temp table (one pass over the file).

    The temp table holds ``_row``, the canonical columns, ``_reason`` (NULL for a good row) and
    ``_raw`` (the source row as JSON, only for bad rows).
    """
    items, reasons = (_order_checks if plan.kind == "orders" else _returns_checks)(plan)
    rejects = f", store_rejects=true, rejects_table='{_REJECTS}', rejects_scan='{_REJECT_SCANS}'"
    raw = "{" + ", ".join(f"{_literal(h)}: {_ident(h)}" for h in plan.headers) + "}"
    outputs = ", ".join(f"_c_{name} AS {name}" for name, _ in items)
    sql = f"""
        CREATE OR REPLACE TEMP TABLE {_STAGE} AS
        SELECT _row, {outputs}, _reason,
               CASE WHEN _reason IS NOT NULL THEN to_json({raw})::VARCHAR END AS _raw
        FROM (
            SELECT *, {', '.join(f"{expr} AS _c_{name}" for name, expr in items)},
                   NULLIF(concat_ws('; ', {', '.join(reasons)}), '') AS _reason
            FROM (SELECT row_number() OVER () AS _row, * FROM {_reader_sql(path, rejects)}))"""
    _drop_rejects(con)
    try:
        con.execute(sql, [str(path)])
    except duckdb.Error as exc:
        raise UnreadableFileError(f"{path.name}: cannot be read: {_one_line(exc)}") from None
    if not _is_parquet(path):
        _renumber_after_rejects(con)


def _renumber_after_rejects(con: duckdb.DuckDBPyConnection) -> None:
    """Turn good-row positions into data row numbers, counting the CSV rows DuckDB rejected."""
    if not con.execute(f"SELECT count(*) FROM {_REJECTS}").fetchone()[0]:
        return
    con.execute(f"""
        UPDATE {_STAGE} SET _row = _row + (
            SELECT count(*) FROM (
                SELECT data_row - row_number() OVER (ORDER BY data_row) AS good_before
                FROM (SELECT DISTINCT line - 1 AS data_row FROM {_REJECTS})) r
            WHERE r.good_before < {_STAGE}._row)""")


def _load_good_rows(con: duckdb.DuckDBPyConnection, path: Path, plan: _Plan) -> int:
    """Insert the rows without a reason into ``orders`` or ``returns``; return how many."""
    if plan.kind == "returns":
        sql = (f"INSERT INTO returns (order_id, source_file) "
               f"SELECT order_id, ? FROM {_STAGE} WHERE _reason IS NULL")
    else:
        cols = ", ".join(CANONICAL_COLUMNS)
        sql = (f"INSERT INTO orders ({cols}, source_file, source_row) "
               f"SELECT {cols}, ?, _row FROM {_STAGE} WHERE _reason IS NULL")
    return con.execute(sql, [path.name]).fetchone()[0]


def _quarantine_bad_rows(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Insert checked-bad rows and (for CSV) rows DuckDB could not split into ``quarantine``."""
    n = con.execute(f"""
        INSERT INTO quarantine (source_file, row_number, reason, raw, quarantined_at)
        SELECT ?, _row, _reason, _raw, now() FROM {_STAGE} WHERE _reason IS NOT NULL ORDER BY _row
    """, [path.name]).fetchone()[0]
    if _is_parquet(path):
        return n
    return n + con.execute(f"""
        INSERT INTO quarantine (source_file, row_number, reason, raw, quarantined_at)
        SELECT ?, line - 1,
               string_agg(DISTINCT CASE
                   WHEN error_type IN ('MISSING COLUMNS', 'TOO MANY COLUMNS')
                       THEN 'wrong number of fields: ' || error_message
                   WHEN error_type = 'INVALID ENCODING' THEN 'row is not valid UTF-8'
                   ELSE lower(error_type) || ': ' || error_message END, '; '),
               to_json({{'csv_line': any_value(csv_line)}})::VARCHAR, now()
        FROM {_REJECTS} GROUP BY line ORDER BY line
    """, [path.name]).fetchone()[0]


def _record_file(con: duckdb.DuckDBPyConnection, sha: str, path: Path, plan: _Plan,
                 loaded: int, quarantined: int) -> None:
    """Remember the file's content hash so it is never loaded twice."""
    con.execute("INSERT INTO ingested_files VALUES (?, ?, ?, ?, ?, ?, now())",
                [sha, path.name, plan.kind, plan.layout, loaded, quarantined])


def _drop_rejects(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"DROP TABLE IF EXISTS {_REJECTS}")
    con.execute(f"DROP TABLE IF EXISTS {_REJECT_SCANS}")


def _drop_stage(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"DROP TABLE IF EXISTS {_STAGE}")
    _drop_rejects(con)
