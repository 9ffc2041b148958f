"""Running whole nights from a test: through the real Dagster job, failing with the night's own words."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Callable

from dagster import DagsterInstance

from pipelines.nightly import run_night
from pipelines.resources.build import build_resources
from pipelines.resources.llm import AnswerWriterResource
from warehouse.storage.paths import OffpeakPaths
from warehouse.storage.snapshot import current_snapshot


def night_runner(paths: OffpeakPaths, writer: AnswerWriterResource,
                 instance: DagsterInstance) -> Callable[[date], Path | None]:
    """A function running night ``n`` with ``writer`` and returning the snapshot then current; a
    failed night fails the test with its last fifteen lines."""
    def night(n: date) -> Path | None:
        said: list[str] = []
        ok = run_night(n, paths, build_resources(str(paths.home), answer_writer=writer),
                       instance=instance, say=said.append)
        assert ok, f"night {n} failed:\n" + "\n".join(said[-15:])
        return current_snapshot(paths.snapshots_dir)
    return night
