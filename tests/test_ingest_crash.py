"""Crash safety of the upsert path: a real process killed mid-file leaves the warehouse as it was.

A subprocess ingests a file that skips, replaces, adds and quarantines lines, and kills itself
with ``os._exit`` at one of ``STAGES`` (through ``ingest_file``'s public ``on_stage`` hook), so
no Python cleanup and no rollback runs: only DuckDB's own recovery stands between the kill and
the next open.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from tests.test_ingest import canonical_rows
from warehouse.storage.ingest import STAGES, ingest_file
from warehouse.storage.schema import migrate

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("orders", "quarantine", "ingested_files", "returns")
KILLER = textwrap.dedent("""
    import os, sys
    import duckdb
    from warehouse.storage.ingest import ingest_file
    from warehouse.storage.schema import migrate

    db, path, at = sys.argv[1:]

    def stage(name):
        if name == at:
            os._exit(9)

    con = duckdb.connect(db)
    migrate(con)
    ingest_file(con, path, on_stage=stage)
    os._exit(0)
""")


def state(db: Path) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent checksum of every row, per checked table."""
    con = duckdb.connect(str(db))
    try:
        return {t: con.execute(f"SELECT count(*), md5(coalesce(string_agg(r, '|' ORDER BY r), '')) "
                               f"FROM (SELECT to_json(x)::VARCHAR AS r FROM {t} x)").fetchone()
                for t in CHECKED}
    finally:
        con.close()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> tuple[Path, Path]:
    """A warehouse with one file loaded (and one bad row quarantined), and the next file to load."""
    home = tmp_path_factory.mktemp("crash")
    first = canonical_rows(8)
    first.loc[7, "sales"] = "oops"
    first.to_csv(home / "first.csv", index=False)
    later = canonical_rows(12)
    later.loc[2, "profit"] = "42.00"            # a correction: replaces a stored line
    later.loc[10, "quantity"] = "-3"            # quarantined
    later.loc[11] = later.loc[9]                # an exact duplicate: quarantined
    later.to_csv(home / "second.csv", index=False)
    con = duckdb.connect(str(home / "base.duckdb"))
    migrate(con)
    ingest_file(con, home / "first.csv")
    con.close()
    return home / "base.duckdb", home / "second.csv"


def killed_at(base: Path, path: Path, stage: str, tmp_path: Path) -> tuple[int, Path]:
    """Copy the warehouse, run the killer on the copy; the exit status and the copy's path."""
    db = tmp_path / f"{stage}.duckdb"
    db.write_bytes(base.read_bytes())
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # what a kill leaves in temp stays in the test's
    run = subprocess.run([sys.executable, "-c", KILLER, str(db), str(path), stage], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode in (0, 9), run.stderr
    return run.returncode, db


@pytest.mark.parametrize("stage", [s for s in STAGES if s != "committed"])
def test_a_kill_before_the_commit_leaves_the_warehouse_exactly_as_before(warehouse, tmp_path, stage):
    base, second = warehouse
    before = state(base)
    code, db = killed_at(base, second, stage, tmp_path)
    assert code == 9  # it really died at that stage
    assert state(db) == before
    con = duckdb.connect(str(db))  # and the file loads cleanly afterwards
    report = ingest_file(con, second)
    con.close()
    assert (report.rows_loaded, report.rows_skipped_known, report.rows_replaced,
            report.rows_quarantined) == (3, 6, 1, 2)


def test_a_kill_after_the_commit_keeps_the_whole_file(warehouse, tmp_path):
    base, second = warehouse
    before = state(base)
    code, db = killed_at(base, second, "committed", tmp_path)
    after = state(db)
    assert code == 9
    assert after["orders"][0] == before["orders"][0] + 3  # P-7 (bad before), P-8, P-9
    assert after["quarantine"][0] == before["quarantine"][0] + 2
    assert after["ingested_files"][0] == before["ingested_files"][0] + 1
