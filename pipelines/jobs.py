"""Jobs: the whole night, and the quick ingest the drop-folder sensor starts."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job, in_process_executor

nightly_job = define_asset_job(
    "nightly_job", selection=AssetSelection.all(), executor_def=in_process_executor,
    description="A full night: ingest, forecast, answer in one batch, publish the snapshot.")

ingest_job = define_asset_job(
    "ingest_job", selection=AssetSelection.assets("orders"), executor_def=in_process_executor,
    description="Load new sales files now (validation, quarantine); the heavy work waits for the window.")
