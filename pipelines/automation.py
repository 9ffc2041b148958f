"""Whether the nightly schedule and the drop-folder sensor start running in a fresh Dagster.

A product whose job is to run every night starts its automation RUNNING. ``OFFPEAK_AUTOMATION=off``
(or ``stopped``) starts both STOPPED instead, e.g. on a laptop that only backfills by hand;
a status set in the Dagster UI always wins over this default.
"""

from __future__ import annotations

import os
from typing import Literal

from dagster import DefaultScheduleStatus, DefaultSensorStatus

AUTOMATION_ENV = "OFFPEAK_AUTOMATION"
_OFF = ("off", "stopped", "0", "false", "no")


def automation_on() -> bool:
    """False when ``OFFPEAK_AUTOMATION`` says off; on by default."""
    return os.environ.get(AUTOMATION_ENV, "on").strip().lower() not in _OFF


def default_status(kind: Literal["schedule", "sensor"]) -> DefaultScheduleStatus | DefaultSensorStatus:
    """RUNNING unless automation is switched off."""
    status = DefaultScheduleStatus if kind == "schedule" else DefaultSensorStatus
    return status.RUNNING if automation_on() else status.STOPPED
