"""Run whole nights in-process (the CLI and tests), recorded in the Dagster instance."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any, Callable

from dagster import DagsterInstance, materialize

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
                         tags={"offpeak/trigger": "cli"})
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        md = mat.metadata
        seconds = md.get("seconds").value if "seconds" in md else None
        say(f"  {mat.asset_key.to_user_string():<20} {seconds if seconds is not None else '':>8}s  "
            + ", ".join(f"{k}={v.value}" for k, v in md.items()
                        if k not in ("seconds", "preview", "energy_method", "method")))
    for event in result.get_asset_check_evaluations():
        say(f"  check {event.check_name:<28} {'passed' if event.passed else 'FAILED'}")
    if not result.success:
        for event in result.all_events:
            if event.is_failure:
                say(f"  FAILED: {event.message}")
    return result.success
