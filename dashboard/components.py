"""Pieces several pages share: safe text, number formats, the answer card and its chart.

Text that comes from data or from users (narratives, questions, reasons, file names) is passed
through :func:`md_escape` before Streamlit renders it as Markdown, so a ``$`` is a dollar and not
LaTeX, and a link, image or HTML tag in a question shows as the characters typed.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import altair as alt
import pandas as pd
import streamlit as st

from warehouse.semantic.formatting import format_figure
from warehouse.storage.serving import AnswerCard

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&])")
METHOD_LABELS = {
    "nvml": "measured (NVML GPU counter)",
    "rapl": "measured (RAPL CPU counter)",
    "estimate": "estimate: CPU time × configured W",
}
_AXIS_FORMATS = {"$": "$,.3~s", "%": ".1f", "count": ",.0f", "units": ",.0f"}


def md_escape(text: object) -> str:
    """``text`` with every Markdown-significant character backslash-escaped."""
    return _MD_SPECIAL.sub(r"\\\1", str(text if text is not None else ""))


def method_label(method: str | None) -> str:
    """How an energy figure was obtained, in words; estimates always say so."""
    if not method:
        return "not recorded"
    return METHOD_LABELS.get(method, f"{method} (unverified method)")


def format_value(value: float | None, unit: str | None) -> str:
    """A key number in its unit (``format_figure``): ``$1,234,567``, ``11.4%``, ``212``, ``1,234 units``."""
    if value is None or pd.isna(value):
        return "—"
    text = format_figure(float(value), unit)
    return f"{text} units" if unit == "units" else text


def format_delta(card: AnswerCard) -> str | None:
    """The change vs the previous period: ``+12.2% (+$134,567)``, or points for percentages."""
    if card.delta is None or pd.isna(card.delta):
        return None
    if card.delta == 0:
        return "no change"
    sign = "+" if card.delta > 0 else "-"
    if card.unit == "%":
        return f"{sign}{abs(card.delta):.1f} pts"
    amount = format_value(abs(card.delta), card.unit)
    if card.delta_pct is None or pd.isna(card.delta_pct):
        return f"{sign}{amount}"
    return f"{sign}{abs(card.delta_pct):.1f}% ({sign}{amount})"


def format_energy(wh: float | None) -> str:
    """Energy in Wh, kWh above 1,000 Wh."""
    if wh is None or pd.isna(wh):
        return "—"
    return f"{wh / 1000:,.2f} kWh" if abs(wh) >= 1000 else f"{wh:,.2f} Wh"


def format_day(day: date | datetime | None) -> str:
    """``Mon 23 Nov 2026``."""
    return f"{day:%a %d %b %Y}" if day else "unknown"


def _dollars(text: str) -> str:
    """A formatted number made safe for Markdown (a ``$`` pair would start LaTeX)."""
    return text.replace("$", r"\$")


def chart(card: AnswerCard) -> alt.Chart | None:
    """An Altair chart for a line or bar answer; None for KPI/table answers or unusable data."""
    frame = pd.DataFrame(card.chart_data)
    axis = alt.Axis(format=_AXIS_FORMATS.get(card.unit or "", ",.0f"))
    title = card.key_label or "value"
    if card.chart_kind == "line" and {"period", "value"} <= set(frame.columns):
        periods = pd.to_datetime(frame["period"], errors="coerce")
        if periods.isna().any():
            return None
        monthly = bool((periods.dt.day == 1).all())
        frame = frame.assign(when=periods.dt.strftime("%b %Y" if monthly else "%d %b")).sort_values("period")
        if "series" not in frame.columns:
            frame["series"] = title
        multi = frame["series"].nunique() > 1
        return alt.Chart(frame).mark_line(point=True).encode(
            x=alt.X("when:O", sort=None, title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title=title, axis=axis, scale=alt.Scale(zero=False)),
            color=alt.Color("series:N", legend=alt.Legend(orient="bottom") if multi else None),
            tooltip=[alt.Tooltip("when:O", title="period"), alt.Tooltip("series:N"),
                     alt.Tooltip("value:Q", format=",.2f")],
        ).properties(height=220)
    if card.chart_kind == "bar" and {"label", "value"} <= set(frame.columns):
        ordered = frame.sort_values("value", ascending=False)
        base = alt.Chart(ordered).encode(y=alt.Y("label:N", title=None, sort=None))
        has_previous = "previous" in frame.columns
        period_colour = alt.Color(
            "period:N", title=None, legend=alt.Legend(orient="bottom") if has_previous else None,
            scale=alt.Scale(domain=["this period", "previous period"], range=["#1c83e1", "#262730"]))
        bars = base.mark_bar(cornerRadiusEnd=3).transform_calculate(period="'this period'").encode(
            x=alt.X("value:Q", title=title, axis=axis), color=period_colour,
            tooltip=[alt.Tooltip("label:N"), alt.Tooltip("value:Q", format=",.2f")])
        layers = [bars]
        if has_previous:
            layers.append(base.mark_tick(thickness=3, size=26).transform_calculate(
                period="'previous period'").encode(
                x=alt.X("previous:Q"), color=period_colour,
                tooltip=[alt.Tooltip("label:N"), alt.Tooltip("previous:Q", format=",.2f")]))
        return alt.layer(*layers).properties(height=alt.Step(34))
    return None


def table(frame: pd.DataFrame, labels: dict[str, str] | None = None,
          percents: tuple[str, ...] = ()) -> None:
    """A read-only table: numbers with thousands separators, ``percents`` columns (fractions) as
    percentages, dates as dates, friendly headers; short tables shown whole."""
    config: dict[str, object] = {}
    for column in frame.columns:
        label = (labels or {}).get(column, column.replace("_", " ").capitalize())
        kind = frame[column].dtype
        if column in percents:
            config[column] = st.column_config.NumberColumn(label, format="percent")
        elif pd.api.types.is_datetime64_any_dtype(kind):
            dates_only = (frame[column].dropna() == frame[column].dropna().dt.normalize()).all()
            config[column] = (st.column_config.DateColumn(label, format="ddd D MMM YYYY") if dates_only
                              else st.column_config.DatetimeColumn(label, format="ddd D MMM, HH:mm"))
        elif pd.api.types.is_float_dtype(kind):
            config[column] = st.column_config.NumberColumn(label, format="localized")
        else:
            config[column] = st.column_config.Column(label)
    st.dataframe(frame, hide_index=True, width="stretch", column_config=config,
                 height="content" if len(frame) <= 25 else "auto")


def night_axis() -> alt.X:
    """The x axis of a per-night chart: one band per night, labelled ``Sat 21``."""
    return alt.X("yearmonthdate(night):O", title=None,
                 axis=alt.Axis(format="%a %d", formatType="time", labelAngle=0))


def answer_card(card: AnswerCard, note: str | None = None) -> None:
    """One answer: headline, key number with its change, narrative, chart, and why it is here."""
    with st.container(border=True):
        st.markdown(f"#### {md_escape(card.headline)}")
        st.caption(md_escape(card.question_text))
        if note:
            st.badge(note, icon=":material/bolt:", color="green")
        number, body = st.columns([1, 2], gap="large")
        with number:
            st.metric(md_escape(card.key_label or "Key number"),
                      _dollars(format_value(card.key_value, card.unit)),
                      _dollars(format_delta(card) or "") or None,
                      delta_color="off" if card.direction == "flat" else "normal",
                      delta_arrow={"up": "up", "down": "down", "flat": "off"}.get(card.direction or "", "auto"),
                      delta_description="vs previous period" if card.delta is not None else None)
        with body:
            st.markdown(md_escape(card.narrative))
            drawn = chart(card)
            if drawn is not None:
                st.altair_chart(drawn, width="stretch")
            elif card.chart_kind in ("table", "bar", "line") and card.chart_data:
                table(pd.DataFrame(card.chart_data))
        if card.reasons:
            st.markdown("**Why you see this:** " + " · ".join(md_escape(r) for r in card.reasons))
        energy = "" if card.joules is None else f" · {card.joules:,.1f} J ({method_label(card.energy_method)})"
        st.caption(md_escape(f"Computed last night · tier {card.tier} · {card.model or 'template'}{energy}"))
