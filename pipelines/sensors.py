"""The drop-folder sensor: new sales files are validated and loaded as soon as they land."""


import hashlib

from dagster import RunRequest, SensorEvaluationContext, SkipReason, sensor

from pipelines.automation import default_status

from pipelines.jobs import ingest_job
from pipelines.resources.warehouse import WarehouseResource
from warehouse.storage.ingest import supported_files


@sensor(job=ingest_job, minimum_interval_seconds=60, default_status=default_status("sensor"),
        description="Starts an ingest run when new or changed files appear in the drop folder.")
def drop_folder_sensor(context: SensorEvaluationContext, warehouse: WarehouseResource):
    """Request one ingest run per new set of files (name, size and mtime form the run key)."""
    files = supported_files(warehouse.paths.drop_dir)
    if not files:
        return SkipReason(f"no sales files in {warehouse.paths.drop_dir}")
    fingerprint = hashlib.sha1("|".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
                                        for p in files).encode()).hexdigest()[:16]
    if context.cursor == fingerprint:
        return SkipReason("no new files since the last ingest")
    context.update_cursor(fingerprint)
    return RunRequest(run_key=f"drop-{fingerprint}", tags={"offpeak/files": str(len(files))})
