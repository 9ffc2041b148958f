"""Load sales files (CSV, CSV.gz, Parquet) from the drop folder into the working warehouse.

Each file is loaded once (its content's sha256 goes to ``ingested_files``), in one transaction.
Its text is decoded first (UTF-8 with or without BOM, UTF-16 with BOM, Windows-1252/Latin-1, or
a declared encoding; see ``ingest_text``). Good order lines are upserted into ``orders`` by their
natural key ``line_key`` (see ``canonical``): a line already stored with the same content is
skipped, one with changed content replaces the stored one. Malformed rows, exact duplicate lines
and fields over MAX_FIELD_CHARS go to ``quarantine`` with their 1-based data row number and a
reason. A file is rejected whole (an IngestError, nothing written) when it cannot be read or
decoded, lacks required columns, or has no good row at all. Parsing and validation run in DuckDB.
"""

from __future__ import annotations

import codecs
import hashlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb

from warehouse.storage.ingest_errors import (
    EveryRowQuarantinedError, IngestError, MissingColumnsError, UndecodableFileError,
    UnreadableFileError,
)
from warehouse.storage.ingest_sql import build_stage, describe, plan_for, read_raw, source_for
from warehouse.storage.ingest_text import csv_text
from warehouse.storage.ingest_upsert import (
    delete_replaced_lines, drop_work_tables, insert_lines, insert_returns, match_known_lines,
    quarantine_bad_rows,
)
from warehouse.storage.schema import transaction

__all__ = [
    "EveryRowQuarantinedError", "IngestError", "IngestFailure", "IngestOptions", "IngestReport",
    "MissingColumnsError", "STAGES", "SUPPORTED_SUFFIXES", "UndecodableFileError",
    "UnreadableFileError", "file_sha256", "ingest_drop_folder", "ingest_file", "is_supported",
    "pending_files", "supported_files",
]

SUPPORTED_SUFFIXES: tuple[str, ...] = (".csv", ".csv.gz", ".parquet")

# The points of ``ingest_file`` its ``on_stage`` hook is called at, in order. All but 'committed'
# come before the commit, so a crash (or an exception raised by the hook) at any of them leaves
# the warehouse as it was. 'replaced' happens for order files only.
STAGES: tuple[str, ...] = ("decoded", "staged", "replaced", "loaded", "quarantined", "recorded",
                           "committed")


@dataclass(frozen=True)
class IngestOptions:
    """How to read files whose format cannot be detected: their text encoding (None: detect) and
    whether amounts use a decimal comma (``1.234,56``) rather than a decimal point."""

    encoding: str | None = None
    decimal_comma: bool = False

    def __post_init__(self) -> None:
        if self.encoding:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise ValueError(f"unknown text encoding {self.encoding!r} (try utf-8, cp1252, "
                                 "latin-1 or utf-16)") from None


@dataclass(frozen=True)
class IngestReport:
    """What loading one file did; ``duplicate`` means its content was loaded before.

    Every data row is counted once: ``rows_loaded`` (new lines), ``rows_replaced`` (corrections of
    stored lines), ``rows_skipped_known`` (identical to a stored line) or ``rows_quarantined``.
    """

    file: Path
    layout: str  # 'canonical' | 'aliased' (the layer's headers) | 'returns'
    rows_loaded: int
    rows_quarantined: int
    duplicate: bool = False
    rows_skipped_known: int = 0
    rows_replaced: int = 0
    encoding: str = field(default="", compare=False)  # of a CSV's text ('' for Parquet, duplicates)


@dataclass(frozen=True)
class IngestFailure:
    """A file of the drop folder that was rejected whole, with the one-line reason."""

    file: Path
    error: str


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


def describe_report(report: IngestReport) -> str:
    """One line saying what ingesting the file did (without the file's name)."""
    if report.duplicate:
        return "already ingested (same content), skipped"
    counts = (f"loaded {report.rows_loaded:,}, skipped as known {report.rows_skipped_known:,}, "
              f"replaced {report.rows_replaced:,}, quarantined {report.rows_quarantined:,}")
    return f"{counts} ({', '.join(filter(None, (report.layout, report.encoding)))})"


def ingest_drop_folder(con: duckdb.DuckDBPyConnection, drop_dir: Path,
                       progress: Callable[[str], None] | None = None, *,
                       options: IngestOptions | None = None) -> list[IngestReport | IngestFailure]:
    """Ingest every supported file of ``drop_dir`` in name order; a rejected file does not stop the rest.

    Files stay where they are: re-ingesting the same content is a no-op.
    """
    say = progress or (lambda _msg: None)
    results: list[IngestReport | IngestFailure] = []
    for path in supported_files(drop_dir):
        try:
            report = ingest_file(con, path, options=options)
        except IngestError as exc:
            results.append(IngestFailure(path, str(exc)))
            say(f"{path.name}: rejected: {exc}")
            continue
        results.append(report)
        say(f"{path.name}: {describe_report(report)}")
    return results


def ingest_file(con: duckdb.DuckDBPyConnection, path: Path, *, options: IngestOptions | None = None,
                on_stage: Callable[[str], None] | None = None) -> IngestReport:
    """Load one sales or returns file, all or nothing; raise an IngestError if it is rejected.

    ``on_stage`` (a fault-injection and progress point) is called with each name of ``STAGES``
    as the ingest passes it; an exception it raises rolls the whole file back.
    """
    path = Path(path)
    opts = options or IngestOptions()
    reached = on_stage or (lambda _stage: None)
    _check_path(path)
    sha = file_sha256(path)
    with tempfile.TemporaryDirectory(prefix="offpeak-ingest-") as work, transaction(con):
        known = con.execute("SELECT layout FROM ingested_files WHERE sha256 = ?", [sha]).fetchall()
        if known:
            return IngestReport(path, known[0][0], 0, 0, duplicate=True)
        if path.name.lower().endswith(".parquet"):
            source, encoding = source_for(path.name, path, None), ""
        else:
            text = csv_text(path, Path(work), opts.encoding)
            source, encoding = source_for(path.name, text.path, text.size), text.encoding
        reached("decoded")
        plan = plan_for(path.name, describe(con, source))
        read_raw(con, source)
        build_stage(con, plan, opts.decimal_comma)
        reached("staged")
        if plan.kind == "orders":
            known_lines = match_known_lines(con)
            delete_replaced_lines(con)
            reached("replaced")
            written = insert_lines(con, source)
            skipped, replaced = known_lines.skipped, known_lines.replaced
        else:
            written, skipped, replaced = insert_returns(con, source), 0, 0
        reached("loaded")
        quarantined = quarantine_bad_rows(con, source)
        reached("quarantined")
        loaded = written - replaced
        con.execute("INSERT INTO ingested_files VALUES (?, ?, ?, ?, ?, ?, now())",
                    [sha, path.name, plan.kind, plan.layout, loaded, quarantined])
        drop_work_tables(con)
        reached("recorded")
    reached("committed")
    return IngestReport(path, plan.layout, loaded, quarantined, rows_skipped_known=skipped,
                        rows_replaced=replaced, encoding=encoding)


def _check_path(path: Path) -> None:
    """Reject a path that is not a supported, non-empty file."""
    if not is_supported(path):
        raise UnreadableFileError(f"{path.name}: unsupported file type; use {', '.join(SUPPORTED_SUFFIXES)}")
    if not path.is_file():
        raise UnreadableFileError(f"{path.name}: no such file")
    if path.stat().st_size == 0:
        raise UnreadableFileError(f"{path.name}: the file is empty")
