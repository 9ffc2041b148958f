"""The ``offpeak`` command: every subcommand has help with an example, and bad arguments or bad
inputs end in one line saying what to do (never a traceback), with a non-zero exit status."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines import cli
from pipelines.llm_models import ModelNotPreparedError
from warehouse.storage.ingest import IngestError
from warehouse.storage.schema import SchemaTooNewError, migrate
from warehouse.storage.paths import offpeak_paths
from warehouse.storage.snapshot import NoSnapshotError

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = sorted(cli.COMMANDS)


def _offpeak(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """The real console entry point in a subprocess, on ``home``."""
    environ = {k: v for k, v in os.environ.items() if k != "OFFPEAK_DEBUG"}
    environ.update(OFFPEAK_HOME=str(home), HF_HUB_OFFLINE="1", **env)
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=300, check=False)


def test_every_command_is_listed(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    listed = capsys.readouterr().out
    assert all(command in listed for command in COMMANDS) and "backtest" in COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([command, "--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    assert f"example:\n  offpeak {command}" in out, out


BAD_ARGUMENTS = [
    ("demo", "--users", "0"),
    ("demo", "--nights", "many"),
    ("night", "--night", "2020-13-01"),
    ("backtest", "--orders", "x.csv"),                       # required options missing
    ("backtest", "--orders", "x", "--users", "y", "--log", "z", "--from", "2022-02-30",
     "--to", "2022-03-01", "--out", "o"),
    ("prepare-matcher", "--data"),
    ("window", "--what"),
    ("dashboard", "--port", "abc"),
    ("prepare-model", "extra"),
    ("no-such-command",),
]


@pytest.mark.parametrize("argv", BAD_ARGUMENTS, ids=lambda a: " ".join(a))
def test_bad_arguments_are_a_usage_line_not_a_traceback(argv, tmp_path):
    done = _offpeak(tmp_path, *argv)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "usage: offpeak" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("offpeak")


def test_a_night_without_a_users_directory_says_what_to_write(tmp_path):
    done = _offpeak(tmp_path, "night", "--night", "2026-11-20")
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    assert "FAILED: step users:" in done.stdout and "write one with header user_id,name,role,scope" in done.stdout


def test_a_warehouse_from_a_newer_offpeak_says_upgrade(tmp_path):
    con = duckdb.connect(str(offpeak_paths(tmp_path).warehouse_db))
    migrate(con)
    con.execute("INSERT INTO schema_migrations VALUES ('999_from_the_future', now())")
    con.close()
    (tmp_path / "users.csv").write_text("user_id,name,role,scope\nu1,Ann,vp_sales,*\n", encoding="utf-8")
    done = _offpeak(tmp_path, "night", "--night", "2026-11-20")
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    assert "newer Offpeak" in done.stdout and "upgrade Offpeak" in done.stdout


def test_a_backtest_on_missing_files_is_one_line(tmp_path):
    done = _offpeak(tmp_path, "backtest", "--orders", str(tmp_path / "none.csv"), "--users",
                    str(tmp_path / "none-users.csv"), "--log", str(tmp_path / "none-log.csv"),
                    "--from", "2022-01-03", "--to", "2022-01-05", "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("offpeak backtest: ") and "none" in last


def test_prepare_matcher_without_labelled_pairs_is_one_line(tmp_path):
    # --force: a machine that prepared the pair model must still reach the data check (it fails
    # before the prepared model is touched)
    done = _offpeak(tmp_path, "prepare-matcher", "--force", "--data", str(tmp_path / "nowhere"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "labelled pairs not found" in done.stderr


def test_a_bad_window_setting_is_one_line(tmp_path):
    done = _offpeak(tmp_path, "window", OFFPEAK_DEADLINE_HOUR="seven")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("offpeak window: OFFPEAK_DEADLINE_HOUR")


def test_debug_shows_the_traceback_the_funnel_hides(tmp_path):
    done = _offpeak(tmp_path, "window", OFFPEAK_DEADLINE_HOUR="seven", OFFPEAK_DEBUG="1")
    assert done.returncode == 2 and "Traceback" in done.stderr


@pytest.mark.parametrize("error, hint", [
    (ModelNotPreparedError("tier 1 model is not a directory"), "offpeak prepare-model"),
    (SchemaTooNewError("written by a newer Offpeak"), "upgrade Offpeak"),
    (NoSnapshotError("no snapshot"), "offpeak night"),
    (IngestError("orders.csv: missing columns"), "fix the file"),
    (duckdb.IOException("Could not set lock on file"), "another process"),
    (PermissionError("warehouse.duckdb"), "permissions"),
    (ValueError("n_users must be at least 1"), "check the arguments"),
])
def test_each_product_error_is_one_line_with_what_to_do(error, hint):
    line = cli.explain("night", error)
    assert line.startswith("offpeak night: ") and hint in line and "\n" not in line


def test_an_unexpected_error_asks_for_a_report_in_one_line():
    line = cli.explain("night", KeyError("answer_id"))
    assert "internal error: KeyError" in line and "OFFPEAK_DEBUG=1" in line and "\n" not in line
