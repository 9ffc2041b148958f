"""Reading one sales file in DuckDB SQL: its layout, and the typed, checked rows of its stage table.

``RAW`` holds the file's rows as read, numbered ``_row`` (1-based data row numbers, counting rows
read_csv rejected). The stage table ``STAGE`` holds one row per data row: ``_row``, the loaded
columns, for order lines ``line_key`` and ``op_key`` (the declared key, see canonical.py), ``_reason``
(NULL for a good row) and ``_raw`` (the source row as JSON, only for bad rows; text fields cut
to MAX_FIELD_CHARS there).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.storage.canonical import (
    CANONICAL_COLUMNS, DATE_COLUMNS, KEY_COLUMNS, LINE_ID_COLUMN, LINE_KEY_COLUMNS, MAX_ABS_AMOUNT,
    MAX_FIELD_CHARS, NUMERIC_COLUMNS, REQUIRED_COLUMNS,
)
from warehouse.storage.ingest_errors import MissingColumnsError, UnreadableFileError
from warehouse.storage.semantic_layer import active_layer

RAW = "_offpeak_ingest_raw"
STAGE = "_offpeak_ingest_stage"
COPIES = "_offpeak_ingest_copies"
REJECTS = "_offpeak_ingest_rejects"
REJECT_SCANS = "_offpeak_ingest_reject_scans"
LOADED_COLUMNS: tuple[str, ...] = CANONICAL_COLUMNS + (LINE_ID_COLUMN,)

_RETURNS_COLUMNS = {"order_id", "returned"}
_TRUTHY = ("yes", "y", "true", "1")
_NUMERIC_TYPES = ("DOUBLE", "FLOAT", "DECIMAL", "INTEGER", "BIGINT", "SMALLINT", "TINYINT",
                  "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "UHUGEINT")
_DUCKDB_MAX_LINE = 2_097_152  # read_csv's default max_line_size
_NON_FINITE = ("nan", "-nan", "+nan", "inf", "-inf", "+inf", "infinity", "-infinity", "+infinity")
_POINT_NUMBER = r"[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?"
_COMMA_NUMBER = r"[+-]?([0-9]{1,3}([.][0-9]{3})+|[0-9]+)(,[0-9]+)?"


@dataclass(frozen=True)
class Source:
    """What DuckDB reads for one file: ``path`` (the file, or its UTF-8 copy) and how."""

    name: str       # the dropped file's name, for messages, quarantine and ``source_file``
    path: Path
    parquet: bool
    max_line: int   # read_csv's max_line_size: no record is longer than the whole text


@dataclass(frozen=True)
class Plan:
    """How to read one file: which source header feeds which column."""

    kind: str  # 'orders' | 'returns'
    layout: str  # 'canonical' | 'aliased' (the layer's headers) | 'returns'
    sources: dict[str, tuple[str, str]]  # column -> (source header, DuckDB type)
    headers: list[tuple[str, str]]       # every (header, DuckDB type) of the file


def source_for(name: str, path: Path, text_size: int | None) -> Source:
    """A Parquet file (``text_size`` None) or a UTF-8 CSV of ``text_size`` bytes."""
    if text_size is None:
        return Source(name, path, True, 0)
    return Source(name, path, False, max(_DUCKDB_MAX_LINE, text_size + 1))


def reader_sql(source: Source, csv_options: str = "") -> str:
    """A table-function call reading the source (bound as the single ``?`` parameter)."""
    if source.parquet:
        return "read_parquet(?)"
    return (f"read_csv(?, all_varchar=true, header=true, quote='\"', escape='\"', "
            f"max_line_size={source.max_line}{csv_options})")


def one_line(exc: BaseException) -> str:
    """The first line of an error message (or the error's type name)."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def describe(con: duckdb.DuckDBPyConnection, source: Source) -> list[tuple[str, str]]:
    """The file's (header, DuckDB type) pairs; raise UnreadableFileError if it cannot be parsed."""
    kind = "Parquet" if source.parquet else "CSV"
    try:
        sql = f"DESCRIBE SELECT * FROM {reader_sql(source, ', ignore_errors=true')}"
        rows = con.execute(sql, [str(source.path)]).fetchall()
    except duckdb.Error as exc:
        raise UnreadableFileError(f"{source.name}: cannot be read as {kind}: {one_line(exc)}") from None
    return [(r[0], r[1]) for r in rows]


def plan_for(name: str, described: list[tuple[str, str]]) -> Plan:
    """Detect the layout from the header and map source columns; raise MissingColumnsError."""
    headers = [h for h, _ in described]
    lookup = _header_lookup()
    sources: dict[str, tuple[str, str]] = {}
    for header, dtype in described:
        canonical = lookup.get(_bare(header))
        if canonical and canonical not in sources:
            sources[canonical] = (header, dtype)
    aliased = any(lookup.get(_bare(h), _bare(h)) != _bare(h) for h in headers)
    if "order_id" in sources and set(sources) <= _RETURNS_COLUMNS:
        return Plan("returns", "returns", sources, described)
    layout = "aliased" if aliased else "canonical"
    missing = [c for c in REQUIRED_COLUMNS if c not in sources]
    if missing:
        raise MissingColumnsError(_missing_message(name, layout, missing, headers if not sources else []))
    return Plan("orders", layout, sources, described)


def _missing_message(name: str, layout: str, missing: list[str], found: list[str]) -> str:
    """Name the missing columns the way the detected layout spells them."""
    if found:
        return (f"{name}: no sales columns in header {', '.join(found[:8])}; expected the canonical "
                f"layout ({', '.join(REQUIRED_COLUMNS)}) or the headers semantic layer "
                f"{active_layer().name} declares ({active_layer().path.name})")
    if layout == "canonical":
        return (f"{name}: missing column(s) {', '.join(missing)}; the canonical layout needs "
                f"{', '.join(REQUIRED_COLUMNS)}")
    layer = active_layer()
    names = {c: " (or ".join(h) + ")" * (len(h) - 1) for c, h in layer.headers.items() if h}
    return (f"{name}: missing column(s) {', '.join(names.get(c, c) for c in missing)}; "
            f"expected the headers of semantic layer {layer.name} ({layer.path.name})")


def _bare(header: str) -> str:
    return header.strip().lstrip("\ufeff").lower()


def _header_lookup() -> dict[str, str]:
    """Lower-cased header -> column: the active layer's headers, every column's own name, ``returned``."""
    aliases = {_bare(h): c for c, names in active_layer().headers.items() for h in names}
    return {**aliases, **{c: c for c in LOADED_COLUMNS}, "returned": "returned"}


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


def _shown(text_sql: str) -> str:
    """SQL quoting a bad value for a reason message, cut to 60 characters."""
    return f"'''' || left({text_sql}, 60) || ''''"


def _number_check(column: str, header: str, dtype: str, decimal_comma: bool) -> tuple[str, str]:
    """(SQL value, SQL reason) for an amount: finite, within MAX_ABS_AMOUNT, in the file's format
    (decimal point, or 1.234,56 when the decimal comma is declared); quantities not negative."""
    text = _text_expr(header)
    said = f"'{column} ' || {_shown(text)}"
    if dtype.split("(")[0] in _NUMERIC_TYPES:
        value = f"CAST({_ident(header)} AS DOUBLE)"
        unparsed = f"WHEN NOT isfinite({value}) THEN {said} || ' is not a finite number' "
    else:
        if decimal_comma:
            number = (f"CASE WHEN regexp_full_match({text}, '{_COMMA_NUMBER}') "
                      f"THEN replace(replace({text}, '.', ''), ',', '.') END")
            hint = ""
        else:
            number = f"CASE WHEN regexp_full_match({text}, '{_POINT_NUMBER}') THEN {text} END"
            hint = (f" || CASE WHEN regexp_full_match({text}, '{_COMMA_NUMBER}') AND {text} LIKE '%,%' "
                    "THEN ' (a decimal-comma number: declare the decimal comma to load it)' ELSE '' END")
        value = f"TRY_CAST({number} AS DOUBLE)"
        non_finite = ", ".join(_literal(w) for w in _NON_FINITE)
        unparsed = (f"WHEN lower({text}) IN ({non_finite}) THEN {said} || ' is not a finite number' "
                    f"WHEN {value} IS NULL THEN {said} || ' is not a number'{hint} ")
    negative = (f"WHEN {value} < 0 THEN {said} || ' is negative (returns and credits go in a "
                "returns file)' " if column == "quantity" else "")
    reason = (f"CASE WHEN {text} IS NULL THEN '{column} is empty' {unparsed}"
              f"WHEN NOT isfinite({value}) OR abs({value}) > {MAX_ABS_AMOUNT!r} "
              f"THEN {said} || ' is out of range "
              f"(more than {MAX_ABS_AMOUNT:,.0f} in absolute value)' {negative}END")
    return value, reason


def _order_checks(plan: Plan, decimal_comma: bool) -> tuple[list[tuple[str, str]], list[str]]:
    """(column, SQL expression) for the loaded columns, and the reason parts of a bad row."""
    items: list[tuple[str, str]] = []
    reasons: list[str] = []
    for column in LOADED_COLUMNS:
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
            parsed, reason = _number_check(column, header, dtype, decimal_comma)
            reasons.append(reason)
        else:
            parsed = text
        if column in KEY_COLUMNS:
            reasons.append(f"CASE WHEN {text} IS NULL THEN 'missing {column}' END")
        items.append((column, parsed))
    return items, reasons


def _returns_checks(plan: Plan) -> tuple[list[tuple[str, str]], list[str]]:
    """(column, SQL expression) and reason parts for a returns file (``order_id`` [, ``returned``])."""
    order_id = _text_expr(plan.sources["order_id"][0])
    reasons = [f"CASE WHEN {order_id} IS NULL THEN 'missing order_id' END"]
    if "returned" in plan.sources:
        flag = _text_expr(plan.sources["returned"][0])
        truthy = ", ".join(_literal(t) for t in _TRUTHY)
        reasons.append(f"CASE WHEN lower(coalesce({flag}, 'yes')) NOT IN ({truthy}) "
                       f"THEN 'Returned ' || {_shown(flag)} || ' is not Yes' END")
    return [("order_id", order_id)], reasons


def _length_checks(plan: Plan) -> list[str]:
    """Reason parts for text fields longer than MAX_FIELD_CHARS (any column of the file)."""
    return [f"CASE WHEN length({_ident(h)}) > {MAX_FIELD_CHARS} THEN "
            f"{_literal(f'field too long: column {h} over {MAX_FIELD_CHARS:,} characters')} END"
            for h, dtype in plan.headers if dtype == "VARCHAR"]


def _raw_json(plan: Plan) -> str:
    """SQL for the source row as JSON text, text fields cut to MAX_FIELD_CHARS."""
    fields = ", ".join(
        f"{_literal(h)}: " + (f"left({_ident(h)}, {MAX_FIELD_CHARS})" if dtype == "VARCHAR" else _ident(h))
        for h, dtype in plan.headers)
    return f"to_json({{{fields}}})::VARCHAR"


def read_raw(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    """Read the file into ``RAW`` (read_csv's rejects go to ``REJECTS``); number its data rows."""
    rejects = f", store_rejects=true, rejects_table='{REJECTS}', rejects_scan='{REJECT_SCANS}'"
    con.execute(f"DROP TABLE IF EXISTS {REJECTS}")
    con.execute(f"DROP TABLE IF EXISTS {REJECT_SCANS}")
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {RAW} AS "
                    f"SELECT row_number() OVER () AS _row, * FROM {reader_sql(source, rejects)}",
                    [str(source.path)])
    except duckdb.Error as exc:
        raise UnreadableFileError(f"{source.name}: cannot be read: {one_line(exc)}") from None
    if not source.parquet:
        _renumber_after_rejects(con)


def _renumber_after_rejects(con: duckdb.DuckDBPyConnection) -> None:
    """Turn good-row positions into data row numbers, counting the CSV rows DuckDB rejected."""
    if not con.execute(f"SELECT count(*) FROM {REJECTS}").fetchone()[0]:
        return
    con.execute(f"""
        UPDATE {RAW} SET _row = _row + (
            SELECT count(*) FROM (
                SELECT data_row - row_number() OVER (ORDER BY data_row) AS good_before
                FROM (SELECT DISTINCT line - 1 AS data_row FROM {REJECTS})) r
            WHERE r.good_before < {RAW}._row)""")


def build_stage(con: duckdb.DuckDBPyConnection, plan: Plan, decimal_comma: bool) -> None:
    """Create ``STAGE`` from ``RAW``: typed columns, checks, and for order lines keys.

    Order lines are also checked for exact duplicates (every source field equal to an earlier
    row's; found with a GROUP BY into ``COPIES``, cheaper than a window over wide rows) and for a
    repeated line id, and get their keys: ``op_key`` is the declared key plus the line's rank
    among the good lines with the same declared-key values; ``line_key`` is ``'id:' || line_id``
    when the line has an id, else ``op_key``.
    """
    orders = plan.kind == "orders"
    items, reasons = _order_checks(plan, decimal_comma) if orders else _returns_checks(plan)
    typed = ", ".join(f"{expr} AS _c_{name}" for name, expr in items)
    checks = f"NULLIF(concat_ws('; ', {', '.join(_length_checks(plan) + reasons)}), '') AS _checks"
    outputs = ", ".join(f"_c_{name} AS {name}" for name, _ in items)
    raw = f"CASE WHEN _reason IS NOT NULL THEN {_raw_json(plan)} END AS _raw"
    if not orders:
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {STAGE} AS
            SELECT _row, {outputs}, _reason, {raw}
            FROM (SELECT *, _checks AS _reason FROM (SELECT *, {typed}, {checks} FROM {RAW}))""")
        return
    every = ", ".join(_ident(h) for h, _ in plan.headers)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {COPIES} AS
        SELECT unnest(list(_row)) AS _copy_row, min(_row) AS _copy_of FROM {RAW}
        GROUP BY {every} HAVING count(*) > 1""")
    checked = (f"SELECT r.*, {typed}, {checks}, coalesce(c._copy_of, r._row) AS _copy_of "
               f"FROM {RAW} r LEFT JOIN {COPIES} c ON c._copy_row = r._row")
    line_id = f"_c_{LINE_ID_COLUMN}"
    if LINE_ID_COLUMN in plan.sources:
        first_id = (f"SELECT *, min(_row) OVER (PARTITION BY {line_id}, _copy_of = _row) AS _id_first "
                    f"FROM ({checked})")
    else:
        first_id = f"SELECT *, _row AS _id_first FROM ({checked})"
    reasoned = f"""SELECT *, NULLIF(concat_ws('; ',
            CASE WHEN _copy_of <> _row THEN 'duplicate line: same as row ' || _copy_of END,
            CASE WHEN _copy_of = _row AND {line_id} IS NOT NULL AND _id_first <> _row
                 THEN 'duplicate {LINE_ID_COLUMN} ' || {_shown(line_id)}
                      || ' (first at row ' || _id_first || ')'
            END, _checks), '') AS _reason FROM ({first_id})"""
    declared = ", ".join(f"_c_{c}" for c in LINE_KEY_COLUMNS)
    ranked = (f"SELECT *, 'op:' || to_json([{declared}])::VARCHAR || '#' || row_number() OVER "
              f"(PARTITION BY {declared}, _reason IS NULL ORDER BY _row) AS _op_key FROM ({reasoned})")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {STAGE} AS
        SELECT _row, {outputs}, coalesce('id:' || {line_id}, _op_key) AS line_key, _op_key AS op_key,
               _reason, {raw}
        FROM ({ranked})""")
