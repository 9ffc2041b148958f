"""Run whole nights in-process (the CLI and tests), recorded in the Dagster instance."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any, Callable

from dagster import DagsterEventType, DagsterInstance, ExecuteInProcessResult, materialize

from pipelines.definitions import ASSET_CHECKS, ASSETS
from pipelines.resources.build import build_resources
from warehouse.storage.paths import OffpeakPaths

DAGSTER_YAML = """# Written by offpeak: one DuckDB writer at a time across all runs.
concurrency:
  pools:
    default_limit: 1
telemetry:
  enabled: false
"""


def dagster_home(paths: OffpeakPaths) -> Path:
    """``$DAGSTER_HOME``, else ``<home>/dagster`` with a dagster.yaml limiting writer pools to 1."""
    home = Path(os.environ.get("DAGSTER_HOME") or paths.home / "dagster")
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def run_night(night: date, paths: OffpeakPaths, resources: dict[str, Any] | None = None,
              instance: DagsterInstance | None = None, say: Callable[[str], None] = print) -> bool:
    """Materialize every asset (and its checks) for one night; True when all succeeded."""
    dagster_home(paths)
    say(f"night {night}: materializing {len(ASSETS)} assets with {len(ASSET_CHECKS)} checks in {paths.home}")
    result = materialize([*ASSETS, *ASSET_CHECKS], partition_key=night.isoformat(),
                         resources=resources or build_resources(str(paths.home)),
                         instance=instance or DagsterInstance.get(), raise_on_error=False,
                         tags={"offpeak/trigger": "cli"},
                         run_config={"loggers": {"console": {"config": {"log_level": console_log_level()}}}})
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        md = mat.metadata
        seconds = md.get("seconds").value if "seconds" in md else None
        say(f"  {mat.asset_key.to_user_string():<20} {seconds if seconds is not None else '':>8}s  "
            + ", ".join(f"{k}={v.value}" for k, v in md.items()
                        if k not in ("seconds", "preview", "energy_method", "method")))
    for event in result.get_asset_check_evaluations():
        say(f"  check {event.check_name:<28} {'passed' if event.passed else 'FAILED'}")
    for line in failure_lines(result):
        say(f"  FAILED: {line}")
    return result.success


def console_log_level() -> str:
    """Dagster's own console log: silent (the run's events stay in the instance and its UI; the
    lines above say what happened), everything with ``OFFPEAK_DEBUG=1``."""
    return "DEBUG" if os.environ.get("OFFPEAK_DEBUG") else "CRITICAL"


def failure_lines(result: ExecuteInProcessResult) -> list[str]:
    """One line per failed step: the step and the innermost error's type and message."""
    lines = []
    for event in result.all_events:
        if event.event_type != DagsterEventType.STEP_FAILURE:
            continue
        error = event.step_failure_data.error
        while error is not None and error.cause is not None:
            error = error.cause
        message = (error.message.strip().splitlines() or [""])[-1] if error is not None else "failed"
        lines.append(f"step {event.step_key}: {message}")
    if not result.success and not lines:
        lines.append(f"run {result.run_id} failed (see the Dagster UI)")
    return lines
