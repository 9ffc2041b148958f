"""The Dagster code location: assembly only."""

from __future__ import annotations

from dagster import Definitions, load_asset_checks_from_modules, load_assets_from_modules

from pipelines import checks
from pipelines.assets import answering, prediction, publishing, sources
from pipelines.jobs import ingest_job, nightly_job
from pipelines.resources.build import build_resources
from pipelines.schedules import nightly_schedule
from pipelines.sensors import drop_folder_sensor

defs = Definitions(
    assets=load_assets_from_modules([sources, prediction, answering, publishing]),
    asset_checks=load_asset_checks_from_modules([checks]),
    jobs=[nightly_job, ingest_job],
    schedules=[nightly_schedule],
    sensors=[drop_folder_sensor],
    resources=build_resources(),
)
