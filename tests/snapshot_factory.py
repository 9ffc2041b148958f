"""Build a small, realistic published snapshot through the real publish path, for dashboard tests.

A temp working warehouse is migrated with ``warehouse.storage.schema.migrate``, filled with one night's
users, answers, briefings, phrasings and a week of savings, energy and runs, and published with
``warehouse.storage.snapshot.publish_snapshot`` into ``<home>/snapshots``, exactly as a night would:
its tables and ``meta`` record follow ``warehouse.storage.contract``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb

from warehouse.semantic.catalogue import CATALOGUE, answer_id_for, instance_key, phrase
from warehouse.semantic.facts import build_sales_facts
from warehouse.language.embedding import MODEL_NAME
from warehouse.storage.contract import SnapshotMeta, next_window
from warehouse.storage.semantic_layer import active_layer
from warehouse.storage.paths import OffpeakPaths, offpeak_paths
from warehouse.storage.schema import migrate
from warehouse.storage.snapshot import publish_snapshot

# user_id, name, role, scope, access (the rights the directory grants)
USERS: list[tuple[str, str, str, str, str]] = [
    ("vera", "Vera Price", "vp_sales", "*", ""),
    ("wes", "Wes Turner", "regional_manager", "region=West", ""),
    ("erin", "Erin Cole", "regional_manager", "region=East", ""),
    ("ada", "Ada Admin", "admin", "*", "admin"),
    ("dan", "Dan Engineer", "data_engineer", "*", "data_engineer"),
]

ENTITY_VALUES: dict[str, list[str]] = {
    "region": ["West", "East", "Central", "South"],
    "segment": ["Consumer", "Corporate", "Home Office"],
    "category": ["Technology", "Office Supplies", "Furniture"],
    "state": ["California", "Washington", "New York", "Texas"],
    "product_name": ["Canon imageCLASS 2200", "Fellowes PB500 Binding", "HON 5400 Chairs"],
}
DAGSTER_URL = "http://127.0.0.1:3000"
WINDOW_START_HOUR, WINDOW_END_HOUR, WINDOW_TIMEZONE = 1, 4, "UTC"
WINDOW_REASON = "cheapest 3 h before the 07:00 deadline: 0.12/kWh, 180 gCO2/kWh"
LIVE_JOULES_PER_ANSWER = 540.0
NIGHTS_OF_HISTORY = 7


@dataclass(frozen=True)
class FactoryAnswer:
    """One answer the factory writes: a name for tests plus the row's columns."""

    name: str
    intent_id: str
    params: dict[str, Any]
    headline: str
    narrative: str
    key_label: str
    key_value: float
    previous_value: float | None
    direction: str | None
    unit: str
    chart_kind: str
    chart_data: list[dict[str, Any]]
    tier: int = 0
    model: str | None = None
    joules: float = 0.4
    energy_method: str = "estimate"

    @property
    def scope_key(self) -> str:
        filters = self.params.get("filters", {})
        return ";".join(f"{c}={v}" for c, v in sorted(filters.items())) or "*"

    @property
    def delta(self) -> float | None:
        return None if self.previous_value is None else self.key_value - self.previous_value

    @property
    def delta_pct(self) -> float | None:
        if not self.previous_value:
            return None
        return round(100 * (self.key_value - self.previous_value) / self.previous_value, 1)


def _months(night: date, values: list[float]) -> list[dict[str, Any]]:
    first = night.replace(day=1)
    months = []
    for i in range(len(values), 0, -1):
        y, m = divmod(first.month - 1 - i, 12)
        months.append(date(first.year + y, m + 1, 1))
    return [{"period": d.isoformat(), "value": v, "series": "revenue"} for d, v in zip(months, values)]


def factory_answers(night: date) -> list[FactoryAnswer]:
    """The answers of the factory's night: company-wide, West, West;Consumer and East."""
    west = {"region": "West"}
    return [
        FactoryAnswer(
            "company_revenue", "revenue_vs_prev", {"period": "last_month", "filters": {}},
            "Revenue up 12.2% last month",
            "Revenue last month was $1,234,567, up 12.2% ($134,567) on the month before.",
            "Revenue", 1_234_567.0, 1_100_000.0, "up", "$", "line",
            _months(night, [980_000, 1_020_500, 1_050_250, 1_100_000, 1_234_567])),
        FactoryAnswer(
            "west_by_category", "breakdown",
            {"period": "last_month", "metric": "revenue", "dimension": "category", "filters": west},
            "West revenue by category",
            "Technology led the West last month with $182,400; Furniture fell 8.0% to $96,600.",
            "Revenue", 402_300.0, 389_900.0, "up", "$", "bar",
            [{"label": "Technology", "value": 182_400.0, "previous": 160_100.0},
             {"label": "Office Supplies", "value": 123_300.0, "previous": 124_800.0},
             {"label": "Furniture", "value": 96_600.0, "previous": 105_000.0}]),
        FactoryAnswer(
            "west_top_products", "top_products",
            {"period": "last_month", "n": 3, "metric": "revenue", "filters": west},
            "Top 3 West products",
            "The Canon imageCLASS copier sold most in the West last month ($24,100).",
            "Top product revenue", 24_100.0, None, None, "$", "table",
            [{"product": "Canon imageCLASS 2200", "revenue": 24_100.0, "orders": 6},
             {"product": "Fellowes PB500 Binding", "revenue": 9_450.5, "orders": 11},
             {"product": "HON 5400 Chairs", "revenue": 8_120.0, "orders": 9}]),
        FactoryAnswer(
            "west_consumer_orders", "orders_vs_prev",
            {"period": "last_week", "filters": {"region": "West", "segment": "Consumer"}},
            "West consumer orders flat",
            "West consumer orders last week were 212, level with the week before.",
            "Orders", 212.0, 212.0, "flat", "count", "kpi", [], tier=1, model="smollm2-135m",
            joules=38.0, energy_method="rapl"),
        FactoryAnswer(
            "east_margin", "margin_vs_prev", {"period": "last_month", "filters": {"region": "East"}},
            "East margin down 2.1 points",
            "East profit margin fell to 11.4% last month from 13.5%.",
            "Profit margin", 11.4, 13.5, "down", "%", "kpi", []),
    ]


# user -> [(answer name, score, reasons)] in rank order.
BRIEFINGS: dict[str, list[tuple[str, float, list[str]]]] = {
    "vera": [("company_revenue", 0.93, ["You ask about revenue most Monday mornings",
                                         "A new month closed"]),
             ("east_margin", 0.71, ["East margin moved beyond its usual band"])],
    "wes": [("west_by_category", 0.88, ["You asked this 4 times in the last 30 days"]),
            ("west_top_products", 0.64, ["Regional managers like you ask this at month start"]),
            ("west_consumer_orders", 0.41, ["Consumer is your busiest segment"])],
    "erin": [("east_margin", 0.9, ["East margin moved beyond its usual band"])],
    "ada": [("company_revenue", 0.5, ["Admins see the company headline"])],
    "dan": [("company_revenue", 0.5, ["Everyone gets the company headline"])],
}


@dataclass(frozen=True)
class FactorySnapshot:
    """A published factory snapshot and the names tests need to find things in it."""

    paths: OffpeakPaths
    snapshot: Path
    night: date
    answer_ids: dict[str, str]

    @property
    def home(self) -> Path:
        return self.paths.home


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)


def _answers(con: duckdb.DuckDBPyConnection, night: date, answers: list[FactoryAnswer],
             embed: bool) -> dict[str, str]:
    ids, phrasings = {}, []
    for a in answers:
        intent = CATALOGUE[a.intent_id]
        params = intent.bind(a.params)
        key = instance_key(a.intent_id, params)
        answer_id = answer_id_for(night.isoformat(), key)
        ids[a.name] = answer_id
        question = phrase(intent, params)
        numbers = [v for v in (a.key_value, a.previous_value, a.delta) if v is not None]
        _insert(con, "answers", [(
            night, answer_id, key, a.intent_id, json.dumps(params), a.scope_key, question,
            a.headline, a.narrative, a.key_label, a.key_value, a.previous_value, a.delta,
            a.delta_pct, a.direction, a.unit, a.chart_kind, json.dumps(a.chart_data),
            json.dumps(numbers), a.tier, a.model, 120 if a.tier else 0, 40 if a.tier else 0,
            a.joules, a.energy_method, True, None)])
        phrasings += [(answer_id, phrase(intent, params, v)) for v in range(len(intent.phrasings))]
    vectors: list[list[float] | None] = [None] * len(phrasings)
    if embed:
        from warehouse.language.embedding import load_embedder
        vectors = load_embedder().encode([text for _, text in phrasings]).tolist()
    _insert(con, "answer_phrasings",
            [(night, aid, text, vec) for (aid, text), vec in zip(phrasings, vectors)])
    return ids


def _history(con: duckdb.DuckDBPyConnection, night: date) -> None:
    """A week of savings, energy and asset runs ending on ``night`` (one failed, retried run)."""
    assets = ["orders", "sales_facts", "question_log", "data_signals", "forecast",
              "question_instances", "facts", "answers", "briefings", "snapshot", "savings"]
    for back in range(NIGHTS_OF_HISTORY - 1, -1, -1):
        n = night - timedelta(days=back)
        questions, hits = 40 + back, 31 + back // 2
        computed, read = 30, 22 + back // 3
        batch_j = 2_400.0 + 50 * back
        avoided_j = hits * LIVE_JOULES_PER_ANSWER
        net_j = avoided_j - batch_j
        cost = avoided_j / 3.6e6 * 0.30 - batch_j / 3.6e6 * 0.12
        co2 = avoided_j / 3.6e6 * 400 - batch_j / 3.6e6 * 180
        _insert(con, "savings", [(  # night n-1's answers, measured on day n by night n's run
            n - timedelta(days=1), questions, hits, questions - hits, computed, read, batch_j, LIVE_JOULES_PER_ANSWER,
            avoided_j, net_j, "estimate", 0.12, 0.30, 180.0, 400.0, cost, co2,
            "estimate: CPU time × 35 W configured", 2)])
        run_id = f"run-{n:%Y%m%d}"
        start = datetime.combine(n + timedelta(days=1), time(2, 0))
        energy = [(n, run_id, "facts", None, "estimate", 900.0 + back, 12.0, 30, None, start),
                  (n, run_id, "answers", 0, "estimate", 1_100.0, 3.0, 28, None, start),
                  (n, run_id, "answers", 1, "rapl", 400.0 + 50 * back, 9.0, 2, None, start)]
        _insert(con, "energy_log", energy)
        runs = []
        if back == 2:
            runs.append((n, run_id + "-a", "orders", "failed", start - timedelta(minutes=30), 1.5,
                         10.0, "estimate", "drop/orders-bad.csv: missing column order_date"))
        for i, asset in enumerate(assets):
            runs.append((n, run_id, asset, "success", start + timedelta(seconds=20 * i),
                         4.0 + i, 100.0 + 10 * i, "estimate", None))
        _insert(con, "asset_runs", runs)
    _insert(con, "live_baseline", [(night, "smollm2-135m", "rapl", 16, LIVE_JOULES_PER_ANSWER,
                                    5.2, 61.0, 0.6, datetime.combine(night, time(2, 30)))])


def _backlog(con: duckdb.DuckDBPyConnection, night: date) -> None:
    at = datetime.combine(night, time(9, 15))
    closest = json.dumps(["revenue_total", "trend_monthly"])
    _insert(con, "unmapped_questions", [
        (night, "wes", at, "Will we hit quota next quarter?", closest),
        (night, "vera", at + timedelta(hours=1), "will we hit quota next quarter?", closest),
        (night, "erin", at, "Which reps are on holiday?", json.dumps([])),
    ])
    spec = {"shape": "total", "metric": "revenue", "period": "last_month", "dimension": None, "n": None,
            "grain": None, "compare": None, "share_of": None}
    _insert(con, "backlog_results", [
        (night, "wes", at, "Will we hit quota next quarter?", "rejected", "the model found no query of the "
         "semantic layer for it", json.dumps(spec | {"shape": "none"}), None, "scripted"),
        (night, "vera", at, "West last month?", "accepted", None,
         json.dumps(spec | {"filters": [{"dimension": "region", "value": "West"}]}), None, "scripted"),
        (night, "vera", at, "gimme revenue last month", "needs_review", "words not in the semantic layer: gimme",
         json.dumps(spec | {"filters": []}), None, "scripted"),
    ])
    _insert(con, "quarantine", [
        ("orders-2026-11.csv", 17, "bad order_date '31/02/2026'", "CA-1,31/02/2026,...", at),
        ("orders-2026-11.csv", 42, "non-numeric sales 'n/a'", "CA-2,2026-11-02,...,n/a", at),
        ("orders-2026-11.csv", 43, "non-numeric sales 'n/a'", "CA-3,2026-11-02,...,n/a", at),
    ])


def factory_meta(night: date, data_through: date | None = None) -> SnapshotMeta:
    """The factory night's meta record, published now: the next 01:00–04:00 UTC window after now."""
    published_at = datetime.now(timezone.utc)
    start, end = next_window(start_hour=WINDOW_START_HOUR, end_hour=WINDOW_END_HOUR,
                             timezone=WINDOW_TIMEZONE, after=published_at)
    return SnapshotMeta(
        night=night, as_of=night + timedelta(days=1), data_through=data_through or night,
        published_at=published_at, run_id=f"run-{night:%Y%m%d}", embedding_model=MODEL_NAME,
        next_window_start=start, next_window_end=end, next_window_timezone=WINDOW_TIMEZONE,
        next_window_reason=WINDOW_REASON, dagster_url=DAGSTER_URL,
        semantic_layer=active_layer().fingerprint)


def build_snapshot(home: Path, *, night: date | None = None, data_through: date | None = None,
                   embed: bool = False, extra_briefings: list[tuple[str, int, str]] = ()
                   ) -> FactorySnapshot:
    """Publish the factory night under ``home`` and return where it is.

    ``night`` defaults to yesterday, so the snapshot serves today; ``data_through`` (the last
    order date) defaults to the night. ``embed`` fills the phrasing embeddings with the real
    model (slower; needed by the real matcher). ``extra_briefings`` adds ``(user_id, rank,
    answer name)`` rows, e.g. to plant an out-of-scope answer in a briefing.
    """
    night = night or date.today() - timedelta(days=1)
    paths = offpeak_paths(home).ensure()
    answers = factory_answers(night)
    with duckdb.connect(str(paths.warehouse_db)) as con:
        migrate(con)
        build_sales_facts(con)          # no order lines: the factory's answers are planted
        _insert(con, "users", USERS)
        _insert(con, "entity_values", [(c, v) for c, values in ENTITY_VALUES.items() for v in values])
        ids = _answers(con, night, answers, embed)
        briefings = [(night, user, rank, ids[name], score, json.dumps(reasons))
                     for user, items in BRIEFINGS.items()
                     for rank, (name, score, reasons) in enumerate(items, start=1)]
        briefings += [(night, user, rank, ids[name], 0.1, json.dumps(["planted"]))
                      for user, rank, name in extra_briefings]
        _insert(con, "briefings", briefings)
        _history(con, night)
        _backlog(con, night)
        snapshot = publish_snapshot(con, paths.snapshots_dir, factory_meta(night, data_through))
    return FactorySnapshot(paths, snapshot, night, ids)
