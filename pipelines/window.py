"""Choose the nightly run's window from a time-of-use price and carbon-intensity profile.

The profile is a CSV of ``hour,price_per_kwh,carbon_g_per_kwh`` in the configured timezone (a
default ships in ``pipelines/config/tou_profile.csv``; point ``OFFPEAK_TOU_PROFILE`` at your own).
The window is the run of ``duration_hours`` consecutive hours, starting no earlier than
``earliest_hour`` and finishing by the morning ``deadline_hour``, with the lowest blend of
normalised price and carbon (``carbon_weight`` 0..1). Night is not always greener: the choice
comes from the profile, not the clock.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PROFILE = Path(__file__).parent / "config" / "tou_profile.csv"


class ProfileError(ValueError):
    """The time-of-use profile is malformed; it needs 24 rows hour,price_per_kwh,carbon_g_per_kwh."""


@dataclass(frozen=True)
class HourRate:
    hour: int
    price_per_kwh: float
    carbon_g_per_kwh: float


@dataclass(frozen=True)
class WindowConfig:
    timezone: str = "UTC"
    deadline_hour: int = 7
    earliest_hour: int = 19
    duration_hours: int = 2
    carbon_weight: float = 0.5
    profile_path: str = str(DEFAULT_PROFILE)

    @classmethod
    def from_env(cls) -> "WindowConfig":
        """Defaults, overridden by OFFPEAK_TIMEZONE / OFFPEAK_DEADLINE_HOUR / OFFPEAK_TOU_PROFILE."""
        return cls(timezone=os.environ.get("OFFPEAK_TIMEZONE", "UTC"),
                   deadline_hour=_hour_from_env("OFFPEAK_DEADLINE_HOUR", "7"),
                   profile_path=os.environ.get("OFFPEAK_TOU_PROFILE", str(DEFAULT_PROFILE)))


def _hour_from_env(name: str, default: str) -> int:
    text = os.environ.get(name, default).strip()
    if not (text.isdigit() and 0 <= int(text) <= 23):
        raise ProfileError(f"{name} must be an hour from 0 to 23, not {text!r}")
    return int(text)


@dataclass(frozen=True)
class Window:
    start_hour: int
    end_hour: int
    timezone: str
    mean_price: float
    mean_carbon: float
    peak_price: float
    peak_carbon: float
    reason: str

    @property
    def cron(self) -> str:
        return f"0 {self.start_hour} * * *"


def read_profile(path: str | Path) -> list[HourRate]:
    """Read and validate a 24-hour profile."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        rates = [HourRate(int(r["hour"]), float(r["price_per_kwh"]), float(r["carbon_g_per_kwh"])) for r in rows]
    except FileNotFoundError:
        raise ProfileError(f"{path}: no such profile file") from None
    except (KeyError, ValueError, TypeError) as exc:
        raise ProfileError(f"{path}: {exc}; expected columns hour,price_per_kwh,carbon_g_per_kwh") from None
    if sorted(r.hour for r in rates) != list(range(24)):
        raise ProfileError(f"{path}: needs exactly one row for each hour 0..23")
    return sorted(rates, key=lambda r: r.hour)


def _candidate_starts(cfg: WindowConfig) -> list[int]:
    span = (cfg.deadline_hour - cfg.earliest_hour) % 24 or 24
    return [(cfg.earliest_hour + i) % 24 for i in range(span - cfg.duration_hours + 1)]


def choose_window(cfg: WindowConfig, rates: list[HourRate] | None = None) -> Window:
    """The cheapest/cleanest window that finishes before the deadline, with the reason."""
    rates = rates or read_profile(cfg.profile_path)
    by_hour = {r.hour: r for r in rates}
    p_lo, p_hi = min(r.price_per_kwh for r in rates), max(r.price_per_kwh for r in rates)
    c_lo, c_hi = min(r.carbon_g_per_kwh for r in rates), max(r.carbon_g_per_kwh for r in rates)

    def blend(r: HourRate) -> float:
        price = (r.price_per_kwh - p_lo) / ((p_hi - p_lo) or 1)
        carbon = (r.carbon_g_per_kwh - c_lo) / ((c_hi - c_lo) or 1)
        return (1 - cfg.carbon_weight) * price + cfg.carbon_weight * carbon

    def hours(start: int) -> list[HourRate]:
        return [by_hour[(start + i) % 24] for i in range(cfg.duration_hours)]

    starts = _candidate_starts(cfg)
    if not starts:
        raise ProfileError("no window of that duration fits between earliest_hour and deadline_hour")
    best = min(starts, key=lambda s: (sum(blend(r) for r in hours(s)), s))
    chosen = hours(best)
    peak = max(rates, key=lambda r: r.price_per_kwh)
    mean_price = sum(r.price_per_kwh for r in chosen) / len(chosen)
    mean_carbon = sum(r.carbon_g_per_kwh for r in chosen) / len(chosen)
    end = (best + cfg.duration_hours) % 24
    reason = (f"{best:02d}:00–{end:02d}:00 {cfg.timezone} has the lowest blend of price and carbon "
              f"(weight {cfg.carbon_weight:g} on carbon) of the {len(starts)} windows of {cfg.duration_hours} h "
              f"between {cfg.earliest_hour:02d}:00 and the {cfg.deadline_hour:02d}:00 deadline: "
              f"{mean_price:.2f}/kWh and {mean_carbon:.0f} gCO2/kWh vs the {peak.hour:02d}:00 peak "
              f"{peak.price_per_kwh:.2f}/kWh and {peak.carbon_g_per_kwh:.0f} gCO2/kWh")
    return Window(best, end, cfg.timezone, mean_price, mean_carbon, peak.price_per_kwh,
                  peak.carbon_g_per_kwh, reason)
