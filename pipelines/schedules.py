"""The nightly schedule, at the cheapest/cleanest window before the morning deadline."""


from datetime import timedelta

from dagster import RunRequest, ScheduleEvaluationContext, schedule

from pipelines.automation import default_status
from pipelines.jobs import nightly_job
from pipelines.window import WindowConfig, choose_window

WINDOW = choose_window(WindowConfig.from_env())


@schedule(cron_schedule=WINDOW.cron, job=nightly_job, execution_timezone=WINDOW.timezone,
          default_status=default_status("schedule"),
          description=f"Runs the night in the off-peak window: {WINDOW.reason}")
def nightly_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    """Run the night that just ended: the partition of the day before the scheduled morning."""
    scheduled = context.scheduled_execution_time
    night = (scheduled - timedelta(days=1)).date() if scheduled.hour < 12 else scheduled.date()
    return RunRequest(run_key=f"night-{night.isoformat()}", partition_key=night.isoformat(),
                      tags={"offpeak/window": f"{WINDOW.start_hour:02d}:00-{WINDOW.end_hour:02d}:00"})
