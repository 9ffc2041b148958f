"""The published snapshot's contract: its tables and columns, and its typed ``meta`` record.

The night's publisher (``warehouse.storage.snapshot.publish_snapshot``) writes exactly these tables
with exactly these columns and types, and the ``meta`` table through :meth:`SnapshotMeta.to_rows`;
every reader (``warehouse.storage.serving``, the dashboard, the asset check) reads ``meta`` back
through :meth:`SnapshotMeta.from_rows`. A value that does not decode raises
:class:`SnapshotContractError` naming its key; only fields typed ``X | None`` may be null.
"""

from __future__ import annotations

import json
import types
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any, Iterable, Union, get_args, get_origin, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

CONTRACT_VERSION = 3  # 2: sales_facts.ship_mode, meta.semantic_layer; 3: backlog, learned, llm_quality
META_TABLE = "meta"
META_COLUMNS = "key VARCHAR PRIMARY KEY, value VARCHAR"


class SnapshotContractError(ValueError):
    """The snapshot does not follow the contract; republish it with `offpeak night`."""


@dataclass(frozen=True)
class Column:
    """One column of a snapshot table: its name and DuckDB type."""

    name: str
    type: str


@dataclass(frozen=True)
class SnapshotTable:
    """A table the snapshot holds, with the columns publish writes and readers may read."""

    name: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        """The column names, in order."""
        return tuple(c.name for c in self.columns)

    def create_sql(self, schema: str) -> str:
        """``CREATE TABLE <schema>.<name> (...)`` with the contract's columns and types."""
        cols = ", ".join(f"{c.name} {c.type}" for c in self.columns)
        return f"CREATE TABLE {schema}.{self.name} ({cols})"


def _table(name: str, spec: str) -> SnapshotTable:
    columns = tuple(Column(*part.split(maxsplit=1)) for part in (p.strip() for p in spec.split(",")) if part)
    return SnapshotTable(name, columns)


_TABLE_LIST = [
    _table("users", "user_id VARCHAR, name VARCHAR, role VARCHAR, scope VARCHAR, access VARCHAR"),
    _table("answers", """night DATE, answer_id VARCHAR, instance_key VARCHAR, intent_id VARCHAR,
        params VARCHAR, scope_key VARCHAR, question_text VARCHAR, headline VARCHAR,
        narrative VARCHAR, key_label VARCHAR, key_value DOUBLE, previous_value DOUBLE,
        delta DOUBLE, delta_pct DOUBLE, direction VARCHAR, unit VARCHAR, chart_kind VARCHAR,
        chart_data VARCHAR, numbers VARCHAR, tier INTEGER, model VARCHAR,
        tokens_in INTEGER, tokens_out INTEGER, joules DOUBLE, energy_method VARCHAR,
        grounded BOOLEAN, fallback_reason VARCHAR"""),
    _table("answer_phrasings", "night DATE, answer_id VARCHAR, text VARCHAR, embedding FLOAT[]"),
    _table("briefings", """night DATE, user_id VARCHAR, rank INTEGER, answer_id VARCHAR, score DOUBLE,
        reasons VARCHAR"""),
    _table("savings", """night DATE, questions INTEGER, hits INTEGER, misses INTEGER,
        answers_computed INTEGER, answers_read INTEGER, batch_joules DOUBLE,
        live_joules_per_answer DOUBLE, live_joules_avoided DOUBLE, net_joules DOUBLE,
        energy_method VARCHAR, price_per_kwh DOUBLE, peak_price_per_kwh DOUBLE,
        carbon_g_per_kwh DOUBLE, peak_carbon_g_per_kwh DOUBLE, net_cost DOUBLE,
        net_co2_g DOUBLE, method_note VARCHAR, served_live_sql INTEGER"""),
    _table("energy_log", """night DATE, run_id VARCHAR, asset VARCHAR, tier INTEGER, method VARCHAR,
        joules DOUBLE, seconds DOUBLE, items INTEGER, detail VARCHAR, measured_at TIMESTAMP"""),
    _table("asset_runs", """night DATE, run_id VARCHAR, asset VARCHAR, status VARCHAR,
        started_at TIMESTAMP, seconds DOUBLE, joules DOUBLE, energy_method VARCHAR, detail VARCHAR"""),
    _table("live_baseline", """night DATE, model VARCHAR, method VARCHAR, answers INTEGER,
        joules_per_answer DOUBLE, seconds_per_answer DOUBLE, batch_joules_per_answer DOUBLE,
        batch_seconds_per_answer DOUBLE, measured_at TIMESTAMP"""),
    _table("data_signals", """night DATE, scope_key VARCHAR, signal VARCHAR, metric VARCHAR,
        period VARCHAR, value DOUBLE, baseline DOUBLE, band DOUBLE, detail VARCHAR, filters VARCHAR"""),
    _table("unmapped_questions", """night DATE, user_id VARCHAR, asked_at TIMESTAMP, question VARCHAR,
        closest VARCHAR"""),
    _table("backlog_results", """night DATE, user_id VARCHAR, asked_at TIMESTAMP, question VARCHAR,
        status VARCHAR, reason VARCHAR, spec VARCHAR, answer_id VARCHAR, model VARCHAR"""),
    _table("learned_phrasings", """question VARCHAR, spec VARCHAR, status VARCHAR, learned_night DATE,
        asked_by VARCHAR, model VARCHAR, decided_by VARCHAR, decided_at TIMESTAMP"""),
    _table("llm_quality", """night DATE, kind VARCHAR, model VARCHAR, replies INTEGER, parsed INTEGER,
        kept INTEGER, parse_failure_rate DOUBLE"""),
    _table("quarantine_summary", "source_file VARCHAR, reason VARCHAR, rows BIGINT, last_at TIMESTAMP"),
    _table("quarantine_sample", """source_file VARCHAR, row_number BIGINT, reason VARCHAR, raw VARCHAR,
        quarantined_at TIMESTAMP"""),
    _table("ingested_files", """sha256 VARCHAR, file_name VARCHAR, kind VARCHAR, layout VARCHAR,
        rows_loaded BIGINT, rows_quarantined BIGINT, ingested_at TIMESTAMP"""),
    _table("entity_values", "column_name VARCHAR, value VARCHAR"),
    # the order lines before the morning served: Ask's live SQL reads them (no AI model)
    _table("sales_facts", """order_id VARCHAR, order_date DATE, ship_date DATE, customer_id VARCHAR,
        customer_name VARCHAR, segment VARCHAR, country VARCHAR, region VARCHAR, state VARCHAR, city VARCHAR,
        product_id VARCHAR, category VARCHAR, sub_category VARCHAR, product_name VARCHAR, quantity DOUBLE,
        sales DOUBLE, discount DOUBLE, profit DOUBLE, rep_id VARCHAR, rep_name VARCHAR, channel VARCHAR,
        ship_mode VARCHAR, returned BOOLEAN"""),
]
TABLES: dict[str, SnapshotTable] = {t.name: t for t in _TABLE_LIST}


def table_problems(con: duckdb.DuckDBPyConnection) -> list[str]:
    """How a snapshot's tables differ from the contract (missing tables, wrong columns); [] if none."""
    found: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position").fetchall():
        found.setdefault(table, []).append((column, kind))
    problems = []
    for name, table in TABLES.items():
        want = [(c.name, c.type) for c in table.columns]
        if name not in found:
            problems.append(f"table {name} is missing")
        elif found[name] != want:
            problems.append(f"table {name} has columns {found[name]}, the contract says {want}")
    if META_TABLE not in found:
        problems.append(f"table {META_TABLE} is missing")
    return problems


def next_window(*, start_hour: int, end_hour: int, timezone: str, after: datetime
                ) -> tuple[datetime, datetime]:
    """The first off-peak window ``start_hour``–``end_hour`` (wall clock in ``timezone``) that
    starts after ``after``, as timezone-aware datetimes in that timezone."""
    if after.tzinfo is None:
        raise ValueError("after must be timezone-aware")
    zone = _zone(timezone, key="next_window_timezone")
    local = after.astimezone(zone)
    day = local.date()
    start = datetime.combine(day, time(start_hour), zone)
    if start <= local:
        day += timedelta(days=1)
        start = datetime.combine(day, time(start_hour), zone)
    end_day = day + timedelta(days=1 if end_hour <= start_hour else 0)
    return start, datetime.combine(end_day, time(end_hour), zone)


def _zone(name: object, *, key: str) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise SnapshotContractError(f"snapshot meta {key!r}: {name!r} is not a known timezone") from None


@dataclass(frozen=True)
class SnapshotMeta:
    """What a snapshot says about itself: the night, the morning it serves, how fresh its data
    is, who published it, and when the next off-peak window opens (in the window's timezone)."""

    night: date
    as_of: date                  # the morning whose questions the night answers
    data_through: date | None    # the last order date before that morning; None: no orders yet
    published_at: datetime       # timezone-aware
    run_id: str
    embedding_model: str
    next_window_start: datetime  # timezone-aware, in next_window_timezone
    next_window_end: datetime
    next_window_timezone: str    # IANA name, e.g. "UTC", "Europe/Paris"
    next_window_reason: str
    dagster_url: str
    semantic_layer: str          # the layer the night understood and computed with: name@digest

    def __post_init__(self) -> None:
        for f in fields(self):
            _check(f.name, _HINTS[f.name], getattr(self, f.name))
        zone = _zone(self.next_window_timezone, key="next_window_timezone")
        for key in ("next_window_start", "next_window_end"):
            object.__setattr__(self, key, getattr(self, key).astimezone(zone))
        if self.next_window_end <= self.next_window_start:
            raise SnapshotContractError(f"snapshot meta 'next_window_end': {self.next_window_end} "
                                        f"is not after next_window_start {self.next_window_start}")

    def to_rows(self) -> list[tuple[str, str]]:
        """The ``meta`` table's ``(key, JSON value)`` rows, the contract version first."""
        rows = [("contract_version", json.dumps(CONTRACT_VERSION))]
        for f in fields(self):
            value = getattr(self, f.name)
            rows.append((f.name, json.dumps(value.isoformat() if isinstance(value, date) else value)))
        return rows

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str]]) -> "SnapshotMeta":
        """Decode ``meta`` rows; raise :class:`SnapshotContractError` naming any bad key."""
        raw: dict[str, Any] = {}
        for key, text in rows:
            try:
                raw[key] = json.loads(text)
            except (TypeError, ValueError):
                raise SnapshotContractError(f"snapshot meta {key!r}: {text!r} is not JSON") from None
        version = raw.pop("contract_version", None)
        if version != CONTRACT_VERSION:
            raise SnapshotContractError(
                f"snapshot meta 'contract_version' is {version!r}, this Offpeak reads "
                f"{CONTRACT_VERSION}: republish the night with `offpeak night`")
        names = [f.name for f in fields(cls)]
        missing = [n for n in names if n not in raw]
        unknown = sorted(set(raw) - set(names))
        if missing or unknown:
            raise SnapshotContractError(f"snapshot meta keys: missing {missing}, unknown {unknown}")
        return cls(**{n: _decode(n, _HINTS[n], raw[n]) for n in names})


_HINTS = get_type_hints(SnapshotMeta)


def _optional(hint: Any) -> tuple[Any, bool]:
    """``(inner type, True)`` for ``X | None``, else ``(hint, False)``."""
    if get_origin(hint) in (Union, types.UnionType):
        inner = [a for a in get_args(hint) if a is not type(None)]
        return inner[0], len(inner) < len(get_args(hint))
    return hint, False


def _decode(key: str, hint: Any, value: Any) -> Any:
    kind, optional = _optional(hint)
    if value is None:
        if optional:
            return None
        raise SnapshotContractError(f"snapshot meta {key!r} is null; it must be a {_name(hint)}")
    try:
        if kind is datetime:
            return datetime.fromisoformat(value)
        if kind is date:
            return date.fromisoformat(value)
    except (TypeError, ValueError):
        what = "ISO datetime with a UTC offset" if kind is datetime else "ISO date (YYYY-MM-DD)"
        raise SnapshotContractError(f"snapshot meta {key!r}: {value!r} is not an {what}") from None
    return value


def _check(key: str, hint: Any, value: Any) -> None:
    kind, optional = _optional(hint)
    if value is None and optional:
        return
    exact = kind is date and isinstance(value, datetime)
    if not isinstance(value, kind) or exact or (kind is str and not value):
        raise SnapshotContractError(f"snapshot meta {key!r}: {value!r} is not a {_name(hint)}")
    if kind is datetime and value.utcoffset() is None:
        raise SnapshotContractError(f"snapshot meta {key!r}: {value.isoformat()} has no timezone")


def _name(hint: Any) -> str:
    kind, optional = _optional(hint)
    label = "non-empty str" if kind is str else kind.__name__
    return f"{label} or None" if optional else label
