"""Compute the facts of one question instance: parameterised SQL on DuckDB, bound values only.

Every query reads ``sales_facts`` (order lines with a ``returned`` flag). Column names come only
from the catalogue's whitelists; every value (dates, filter values, N) is a bound parameter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb

from warehouse.semantic.catalogue import (CATALOGUE, DIMENSIONS, ENTITY_COLUMNS, LAYER, METRICS, RANK_DIMENSIONS,
                                          TREND_POINTS, Intent)
from warehouse.semantic.grounding import extract_numbers
from warehouse.semantic.periods import DateRange, comparison_range, range_label, resolve

DRIVER_DIMENSIONS: tuple[str, ...] = LAYER.defaults["drivers"]
# Metrics whose parts add up to the whole (distinct orders do not: one order spans categories).
ADDITIVE_METRICS = tuple(m.name for m in METRICS.values() if m.additive)
# The column that places a line in a period ("revenue last week" counts the lines dated last week).
TIME = LAYER.time_column


@dataclass
class Facts:
    """What the SQL found for one question instance: key figures, a small table, a chart."""

    intent_id: str
    params: dict[str, Any]
    key_figures: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    chart_data: list[dict[str, Any]] = field(default_factory=list)

    @property
    def numbers(self) -> list[float]:
        """Every number the facts hold: the grounding whitelist for any narrative."""
        found: list[float] = []
        names = {**self.params.get("filters", {}), **({"entity": self.params["entity"]["value"]}
                                                      if isinstance(self.params.get("entity"), dict) else {})}
        for source in (self.key_figures, names, *self.rows, *self.chart_data):
            for value in source.values():
                if isinstance(value, bool):
                    continue
                if isinstance(value, (int, float)) and math.isfinite(value):
                    found.append(float(value))
                elif isinstance(value, str):
                    found.extend(_date_numbers(value))
                    found.extend(abs(n) for n in extract_numbers(value))
        return sorted(set(found))


def _date_numbers(text: str) -> list[float]:
    """Numbers inside labels and names ("Q3 2026", "9–15 Nov 2026", "Envelopes M341") so a
    narrative may repeat them."""
    out: list[float] = []
    token = ""
    for ch in text + " ":
        if ch.isdigit():
            token += ch
        else:
            if token:
                out.append(float(token))
            token = ""
    return out


def where_clause(rng: DateRange, filters: dict[str, str]) -> tuple[str, list[Any]]:
    """SQL for "in this date range and these filters" over alias o, with its bound values."""
    clauses, args = [f"o.{TIME} BETWEEN ? AND ?"], [rng.start, rng.end]
    for column, value in sorted(filters.items()):
        clauses.append(f"o.{_column(column)} = ?")
        args.append(value)
    return " AND ".join(clauses), args


def _column(name: str) -> str:
    from warehouse.storage.canonical import DIMENSION_COLUMNS
    if name not in DIMENSION_COLUMNS:
        raise ValueError(f"not a dimension column: {name!r}")
    return name


def _scalar(con: duckdb.DuckDBPyConnection, metric: str, rng: DateRange, filters: dict[str, str]) -> float:
    return _scalar_over_lines(con, metric, rng, filters)[0]


def _scalar_over_lines(con: duckdb.DuckDBPyConnection, metric: str, rng: DateRange,
                       filters: dict[str, str]) -> tuple[float, bool]:
    """The metric over the lines in ``rng`` and ``filters``, and whether there are any (one query)."""
    if rng.is_empty:
        return 0.0, False
    where, args = where_clause(rng, filters)
    row = con.execute(f"SELECT {METRICS[metric].sql}, count(*) > 0 FROM sales_facts o WHERE {where}",
                      args).fetchall()[0]
    return float(row[0] or 0.0), bool(row[1])


def _grouped(con: duckdb.DuckDBPyConnection, metric: str, column: str, rng: DateRange,
             filters: dict[str, str]) -> dict[str, float]:
    if rng.is_empty:
        return {}
    where, args = where_clause(rng, filters)
    rows = con.execute(
        f"SELECT o.{_column(column)}, {METRICS[metric].sql} FROM sales_facts o WHERE {where} GROUP BY 1",
        args).fetchall()
    return {str(k): float(v or 0.0) for k, v in rows if k is not None}


def _change(value: float, previous: float | None) -> dict[str, Any]:
    if previous is None:
        return {}
    delta = value - previous
    pct = None if previous == 0 else round(100.0 * delta / abs(previous), 1)
    direction = "flat" if abs(delta) < 1e-9 or (pct is not None and abs(pct) < 0.05) else ("up" if delta > 0 else "down")
    return {"previous": round(previous, 2), "delta": round(delta, 2), "delta_pct": pct, "direction": direction}


def _base_figures(intent: Intent, params: dict[str, Any], asked_on: date) -> dict[str, Any]:
    metric = METRICS[params["metric"]]
    figures: dict[str, Any] = {"metric": metric.name, "metric_label": metric.label, "unit": metric.unit,
                               "as_of": asked_on.isoformat()}
    if "period" in intent.free:
        period = resolve(params["period"], asked_on)
        figures.update(period=period.token, period_label=period.label,
                       period_start=period.current.start.isoformat(), period_end=period.current.end.isoformat())
    return figures


def _kpi(con, intent, params, asked_on) -> Facts:
    period = resolve(params["period"], asked_on)
    compare = params.get("compare", "none")
    shown = "prev" if compare == "none" else compare   # a plain figure still shows its delta
    other = comparison_range(period, shown)
    value, any_now = _scalar_over_lines(con, params["metric"], period.current, params["filters"])
    previous, any_before = _scalar_over_lines(con, params["metric"], other, params["filters"])
    figures = _base_figures(intent, params, asked_on)
    if METRICS[params["metric"]].needs_lines:
        # a ratio or an average over no orders is undefined: said so, never a 0 to compare with
        if not any_now:
            figures.update(value=None, no_lines=True, compare=shown, compare_label=range_label(other))
            return Facts(intent.intent_id, params, figures, [], [])
        if not any_before:
            figures.update(value=round(value, 2), compare=shown, compare_label=range_label(other), compare_no_lines=True)
            return Facts(intent.intent_id, params, figures, [], [{"label": period.label, "value": round(value, 2)}])
    figures.update(value=round(value, 2), compare=shown, compare_label=range_label(other), **_change(value, previous))
    chart = [{"label": figures["compare_label"], "value": round(previous, 2)},
             {"label": period.label, "value": round(value, 2)}]
    return Facts(intent.intent_id, params, figures, [], chart)


def _ranking(con, intent, params, asked_on) -> Facts:
    period = resolve(params["period"], asked_on)
    column = RANK_DIMENSIONS[params["dimension"]][0]
    order = "DESC" if params["direction"] == "top" else "ASC"
    where, args = where_clause(period.current, params["filters"])
    rows = [] if period.current.is_empty else con.execute(
        f"SELECT o.{_column(column)} AS label, {METRICS[params['metric']].sql} AS value "
        f"FROM sales_facts o WHERE {where} AND o.{column} IS NOT NULL GROUP BY 1 "
        f"ORDER BY value {order}, label LIMIT ?", [*args, int(params["n"])]).fetchall()
    table = [{"rank": i + 1, "label": str(label), "value": round(float(v), 2)} for i, (label, v) in enumerate(rows)]
    figures = _base_figures(intent, params, asked_on)
    figures.update(n=int(params["n"]), direction=params["direction"], dimension=params["dimension"],
                   shown=len(table))
    if table:
        figures.update(leader=table[0]["label"], value=table[0]["value"])
    return Facts(intent.intent_id, params, figures, table, [{"label": r["label"], "value": r["value"]} for r in table])


def _trend_buckets(grain: str, asked_on: date, points: int) -> list[date]:
    """The first days of the last ``points`` complete weeks or months before ``asked_on``."""
    if grain == "week":
        last_monday = asked_on - timedelta(days=asked_on.weekday() + 7)
        return [last_monday - timedelta(weeks=i) for i in range(points - 1, -1, -1)]
    first = asked_on.replace(day=1)
    out = []
    for i in range(points, 0, -1):
        total = first.year * 12 + first.month - 1 - i
        out.append(date(total // 12, total % 12 + 1, 1))
    return out


def _trend(con, intent, params, asked_on) -> Facts:
    grain = intent.fixed["grain"]
    buckets = _trend_buckets(grain, asked_on, int(params.get("n", TREND_POINTS)))
    end = (buckets[-1] + timedelta(days=6)) if grain == "week" else asked_on.replace(day=1) - timedelta(days=1)
    where, args = where_clause(DateRange(buckets[0], end), params["filters"])
    found = dict(con.execute(
        f"SELECT CAST(date_trunc('{grain}', o.{TIME}) AS DATE), {METRICS[params['metric']].sql} "
        f"FROM sales_facts o WHERE {where} GROUP BY 1", args).fetchall())
    series = [{"period": b.isoformat(), "value": round(float(found.get(b, 0.0) or 0.0), 2),
               "series": params["metric"]} for b in buckets]
    first, last = series[0]["value"], series[-1]["value"]
    figures = _base_figures(intent, params, asked_on)
    values = [p["value"] for p in series]
    figures.update(grain=grain, points=len(series), value=last, first_value=first,
                   first_label=_bucket_label(buckets[0], grain), last_label=_bucket_label(buckets[-1], grain),
                   peak=max(values), low=min(values), **_change(last, first))
    return Facts(intent.intent_id, params, figures, series, series)


def _bucket_label(start: date, grain: str) -> str:
    return f"the week of {start.day} {start:%b %Y}" if grain == "week" else f"{start:%B %Y}"


def _breakdown(con, intent, params, asked_on) -> Facts:
    period = resolve(params["period"], asked_on)
    column = RANK_DIMENSIONS[params["dimension"]][0]
    values = _grouped(con, params["metric"], column, period.current, params["filters"])
    total = _scalar(con, params["metric"], period.current, params["filters"])
    additive = params["metric"] in ADDITIVE_METRICS
    table = [{"label": k, "value": round(v, 2),
              **({"share_pct": round(100 * v / total, 1)} if additive and total else {})}
             for k, v in sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))][:20]
    figures = _base_figures(intent, params, asked_on)
    figures.update(dimension=params["dimension"], value=round(total, 2), members=len(values))
    if table:
        figures.update(leader=table[0]["label"], leader_value=table[0]["value"])
    return Facts(intent.intent_id, params, figures, table, [{"label": r["label"], "value": r["value"]} for r in table])


def _share(con, intent, params, asked_on) -> Facts:
    period = resolve(params["period"], asked_on)
    entity = params["entity"]
    part = _scalar(con, params["metric"], period.current, {**params["filters"], entity["column"]: entity["value"]})
    total = _scalar(con, params["metric"], period.current, params["filters"])
    share = round(100 * part / total, 1) if total else 0.0
    figures = _base_figures(intent, params, asked_on)
    figures.update(entity=entity["value"], entity_column=entity["column"], value=round(part, 2),
                   total=round(total, 2), share_pct=share)
    chart = [{"label": entity["value"], "value": round(part, 2)},
             {"label": "everything else", "value": round(total - part, 2)}]
    return Facts(intent.intent_id, params, figures, [], chart)


def _member_changes(con, metric, column, period, other, filters) -> list[dict[str, Any]]:
    """Per member of ``column``: the metric in ``period`` and in ``other``, biggest change first."""
    if period.is_empty and other.is_empty:
        return []
    clauses, args = [], [period.start, period.end, other.start, other.end]
    for name, value in sorted(filters.items()):
        clauses.append(f"AND o.{_column(name)} = ?")
        args.append(value)
    expr = METRICS[metric].sql
    rows = con.execute(f"""
        SELECT o.{_column(column)}, o.{TIME} BETWEEN ? AND ? AS current, {expr}
        FROM sales_facts o
        WHERE (o.{TIME} BETWEEN ? AND ? OR o.{TIME} BETWEEN ? AND ?) {' '.join(clauses)}
          AND o.{column} IS NOT NULL
        GROUP BY 1, 2""", [period.start, period.end, *args]).fetchall()
    cur: dict[str, float] = {}
    prev: dict[str, float] = {}
    for label, is_current, value in rows:
        (cur if is_current else prev)[str(label)] = float(value or 0.0)
    out = []
    for label in sorted(set(cur) | set(prev)):
        c, p = cur.get(label, 0.0), prev.get(label, 0.0)
        out.append({"label": label, "value": round(c, 2), "previous": round(p, 2), "delta": round(c - p, 2)})
    return sorted(out, key=lambda r: (-abs(r["delta"]), r["label"]))


def _movers(con, intent, params, asked_on) -> Facts:
    period = resolve(params["period"], asked_on)
    other = comparison_range(period, "prev")
    column = RANK_DIMENSIONS[params["dimension"]][0]
    table = _member_changes(con, params["metric"], column, period.current, other, params["filters"])[: int(params["n"])]
    figures = _base_figures(intent, params, asked_on)
    figures.update(dimension=params["dimension"], n=int(params["n"]), compare_label=range_label(other))
    if table:
        figures.update(top_mover=table[0]["label"], top_mover_delta=table[0]["delta"],
                       value=table[0]["value"], previous=table[0]["previous"])
    return Facts(intent.intent_id, params, figures, table, table)


def _drivers(con, intent, params, asked_on) -> Facts:
    period = resolve(params["period"], asked_on)
    other = comparison_range(period, params.get("compare", "prev"))
    metric, filters = params["metric"], params["filters"]
    value, previous = _scalar(con, metric, period.current, filters), _scalar(con, metric, other, filters)
    table = []
    for dim in DRIVER_DIMENSIONS:
        column = DIMENSIONS[dim].column
        if column in filters:
            continue
        for row in _member_changes(con, metric, column, period.current, other, filters)[:3]:
            table.append({"dimension": dim, **row})
    table.sort(key=lambda r: (-abs(r["delta"]), r["dimension"], r["label"]))
    table = table[:8]
    figures = _base_figures(intent, params, asked_on)
    figures.update(value=round(value, 2), compare=params.get("compare", "prev"),
                   compare_label=range_label(other), **_change(value, previous))
    if table:
        figures.update(top_driver=table[0]["label"], top_driver_dimension=table[0]["dimension"],
                       top_driver_delta=table[0]["delta"])
    return Facts(intent.intent_id, params, figures, table,
                 [{"label": f"{r['label']} ({r['dimension'].replace('_', '-')})", "value": r["delta"]} for r in table])


def _customers(con, intent, params, asked_on) -> Facts:
    period = resolve(params["period"], asked_on)
    where, args = where_clause(period.current, params["filters"])
    metric = LAYER.defaults["metric"]
    rows = [] if period.current.is_empty else con.execute(f"""
        WITH firsts AS (SELECT customer_id, min(order_date) AS first_day FROM sales_facts GROUP BY 1)
        SELECT CASE WHEN f.first_day >= ? THEN 'new' ELSE 'returning' END AS kind,
               count(DISTINCT o.customer_id), {METRICS[metric].sql}
        FROM sales_facts o JOIN firsts f USING (customer_id)
        WHERE {where} GROUP BY 1""", [period.current.start, *args]).fetchall()
    found = {k: (int(n), float(s)) for k, n, s in rows}
    new, ret = found.get("new", (0, 0.0)), found.get("returning", (0, 0.0))
    table = [{"label": "new", "customers": new[0], metric: round(new[1], 2)},
             {"label": "returning", "customers": ret[0], metric: round(ret[1], 2)}]
    total = new[0] + ret[0]
    figures = _base_figures(intent, {**params, "metric": metric}, asked_on)
    figures.update(new_customers=new[0], returning_customers=ret[0], customers=total,
                   new_share_pct=round(100 * new[0] / total, 1) if total else 0.0, value=new[0])
    return Facts(intent.intent_id, params, figures, table,
                 [{"label": r["label"], "value": r["customers"]} for r in table])


_BY_FAMILY = {"kpi": _kpi, "ranking": _ranking, "trend": _trend, "breakdown": _breakdown,
              "share": _share, "movers": _movers, "drivers": _drivers, "customers": _customers}


def compute_facts(con: duckdb.DuckDBPyConnection, intent_id: str, params: dict[str, Any], asked_on: date) -> Facts:
    """Run the intent's SQL for bound ``params`` as seen on the morning ``asked_on``."""
    intent = CATALOGUE[intent_id]
    return _BY_FAMILY[intent.family](con, intent, intent.bind(params), asked_on)


def build_sales_facts(con: duckdb.DuckDBPyConnection, before: date | None = None) -> int:
    """(Re)build ``sales_facts`` (order lines with a ``returned`` flag, sorted by day, optionally
    only those before a day) and ``entity_values`` (the names questions may mention)."""
    cutoff = "WHERE o.order_date < ?" if before else ""
    con.execute(f"""
        CREATE OR REPLACE TABLE sales_facts AS
        SELECT o.* EXCLUDE (source_file, source_row, line_id, line_key), r.order_id IS NOT NULL AS returned
        FROM orders o LEFT JOIN (SELECT DISTINCT order_id FROM returns) r USING (order_id)
        {cutoff} ORDER BY o.order_date""", [before] if before else [])
    con.execute("CREATE OR REPLACE TABLE entity_values AS " + " UNION ALL ".join(
        f"SELECT DISTINCT '{c}' AS column_name, {c} AS value FROM sales_facts WHERE {c} IS NOT NULL"
        for c in ENTITY_COLUMNS))
    return con.execute("SELECT count(*) FROM sales_facts").fetchall()[0][0]
