"""The Dagster code location: assembly only."""

from dagster import Definitions, load_asset_checks_from_modules, load_assets_from_modules

from pipelines import checks
from pipelines.assets import answering, prediction, publishing, sources
from pipelines.jobs import ingest_job, nightly_job
from pipelines.resources.build import build_resources
from pipelines.schedules import nightly_schedule
from pipelines.sensors import drop_folder_sensor

ASSETS = load_assets_from_modules([sources, prediction, answering, publishing])
ASSET_CHECKS = load_asset_checks_from_modules([checks])

defs = Definitions(
    assets=ASSETS,
    asset_checks=ASSET_CHECKS,
    jobs=[nightly_job, ingest_job],
    schedules=[nightly_schedule],
    sensors=[drop_folder_sensor],
    resources=build_resources(),
)
