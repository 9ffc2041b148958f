"""``offpeak ingest FILE...``: load sales files into the working warehouse by hand.

The same code path as the ``orders`` asset (``ingest_file`` on the warehouse, migrated first),
one line per file, exit status 1 when any file was rejected.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from warehouse.storage.ingest import IngestError, IngestOptions, describe_report, ingest_file
from warehouse.storage.paths import OffpeakPaths
from warehouse.storage.schema import open_warehouse

EXAMPLE = "offpeak ingest drop/orders-2026-11.csv drop/returns.csv"


def add_ingest_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``ingest`` subcommand (help text with an example) to ``subparsers``."""
    summary = ("load sales files (CSV, CSV.gz, Parquet) into the warehouse: new lines load, known "
               "lines are skipped, changed lines replace the old ones, bad rows go to quarantine")
    parser = subparsers.add_parser("ingest", help=summary, description=summary,
                                   epilog=f"example:\n  {EXAMPLE}",
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="sales or returns files")
    parser.add_argument("--encoding", help="the files' text encoding, e.g. cp1252 (default: detect "
                        "UTF-8, UTF-8/UTF-16 with BOM, Windows-1252/Latin-1)")
    parser.add_argument("--decimal-comma", action="store_true",
                        help="amounts are written like 1.234,56 (default: a decimal point)")
    return parser


def run_ingest(args: argparse.Namespace, paths: OffpeakPaths) -> int:
    """Ingest ``args.files`` in order, print one line per file; 1 if any file was rejected."""
    options = IngestOptions(encoding=args.encoding, decimal_comma=args.decimal_comma)
    rejected = 0
    with open_warehouse(paths.warehouse_db) as con:
        for path in args.files:
            try:
                line = describe_report(ingest_file(con, path, options=options))
            except IngestError as exc:
                rejected += 1
                message = str(exc).removeprefix(f"{path.name}: ")
                line = f"rejected: {message}"
            print(f"{path}: {line}", flush=True)
    return 1 if rejected else 0
