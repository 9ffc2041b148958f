"""The band test skips ``pstdev`` only where it cannot change the outcome."""

from __future__ import annotations

import statistics
from datetime import date, timedelta

import numpy as np

from warehouse.forecasting.signals import BAND_SIGMAS, SIGNAL_METRICS, _bands, _beyond_band, _Series


def _naive(daily: _Series, bands) -> list[tuple]:
    """The band test with the exact sd always computed."""
    out = []
    for band in bands:
        for metric in SIGNAL_METRICS:
            value = daily.total(metric, band.current)
            past = [daily.total(metric, r) for r in band.history]
            if not any(past):
                continue
            mean, sd = statistics.fmean(past), statistics.pstdev(past)
            if sd > 0 and abs(value - mean) > BAND_SIGMAS * sd:
                out.append((metric, band.token, band.label, (value - mean) / sd))
    return out


def test_beyond_band_equals_the_exact_sd_everywhere() -> None:
    rng = np.random.default_rng(0)
    asked_on = date(2022, 3, 8)
    first = asked_on - timedelta(days=220)
    bands = _bands(asked_on, ("yesterday", "last_week", "last_month"))
    found = 0
    for trial in range(400):
        daily = rng.gamma(1.0 + trial % 5, 100.0, size=(3, 220)) * (rng.random((3, 220)) < 0.3 + trial % 7 / 10)
        if trial % 9 == 0:
            daily[:, -40:] *= 1 + trial % 4    # a recent jump
        if trial % 11 == 0:
            daily[:, :] = 50.0                 # a flat series: sd 0
        series = _Series(first, {c: np.concatenate([[0.0], np.cumsum(daily[i])])
                                 for i, c in enumerate(SIGNAL_METRICS)})
        expected = _naive(series, bands)
        assert list(_beyond_band(series, bands)) == expected
        found += len(expected)
    assert found > 20
