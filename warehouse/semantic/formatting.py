"""How a figure reads in its unit, the one rule the narrative and the dashboard share."""

from __future__ import annotations

import math

MISSING = "n/a"


def format_figure(value: float | None, unit: str | None) -> str:
    """A figure for reading: ``$12,346`` / ``-$45.20`` / ``12.3%`` / ``1,234`` / ``1,234.5``.

    Money under $100 keeps its cents; other numbers keep one decimal unless whole. ``None`` and
    NaN read ``n/a``.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if unit == "$":
        sign = "-" if value < 0 else ""
        v = abs(value)
        return f"{sign}${v:,.0f}" if v >= 100 else f"{sign}${v:,.2f}"
    if unit == "%":
        return f"{value:.1f}%"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
