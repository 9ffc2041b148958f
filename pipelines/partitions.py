"""One daily partition is one night: night N computes the answers served on the morning N+1."""

from __future__ import annotations

from datetime import date, timedelta

from dagster import DailyPartitionsDefinition

NIGHTS_START = "2019-01-01"
nights_partitions = DailyPartitionsDefinition(start_date=NIGHTS_START)


def night_of(partition_key: str) -> date:
    """The night's date from its partition key."""
    return date.fromisoformat(partition_key)


def morning_after(night: date) -> date:
    """The day whose questions the night answers (periods resolve relative to it)."""
    return night + timedelta(days=1)
