"""Read functions over a published snapshot: what the dashboard (and bench/serve) shows.

Every function takes a read-only snapshot connection (``warehouse.storage.snapshot.open_snapshot``) and
returns plain Python values or small pandas frames; nothing here imports Streamlit. Anything a
sales leader reads is filtered to their scope *in SQL*: an answer is readable when its
``scope_key`` contains every ``column=value`` pair of the reader's scope (a West manager reads
West and West;Consumer answers, never company-wide or East ones). Admin views (savings,
pipeline) are not scoped; the dashboard gates them by role.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from warehouse.storage.contract import META_TABLE, SnapshotMeta
from warehouse.storage.users import USER_SELECT, Scope, User, user_from_row

JOULES_PER_WH = 3600.0

# An answer's scope as a list of "column=value" parts ('*' for everything); see module docstring.
_SCOPE_PARTS = "list_transform(string_split(a.scope_key, ';'), lambda p: trim(p))"
_IN_SCOPE = f"list_has_all({_SCOPE_PARTS}, $scope::VARCHAR[])"

_CARD_COLUMNS = """a.answer_id, a.question_text, a.headline, a.narrative, a.key_label, a.key_value,
    a.previous_value, a.delta, a.delta_pct, a.direction, a.unit, a.chart_kind, a.chart_data,
    a.scope_key, a.tier, a.model, a.joules, a.energy_method"""


@dataclass(frozen=True)
class AnswerCard:
    """One pre-computed answer as a reader sees it, with why it was predicted when it was."""

    answer_id: str
    question_text: str
    headline: str
    narrative: str
    key_label: str | None
    key_value: float | None
    previous_value: float | None
    delta: float | None
    delta_pct: float | None
    direction: str | None
    unit: str | None
    chart_kind: str
    chart_data: list[dict[str, Any]]
    scope_key: str
    tier: int | None
    model: str | None
    joules: float | None
    energy_method: str | None
    rank: int | None = None
    score: float | None = None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class SavingsSummary:
    """Totals over every night the snapshot holds."""

    nights: int
    questions: int
    hits: int
    misses: int
    hit_rate: float | None
    answers_computed: int
    answers_read: int
    waste_ratio: float | None
    batch_wh: float
    live_wh_avoided: float
    net_wh: float
    net_cost: float
    net_co2_g: float
    energy_methods: tuple[str, ...]
    method_notes: tuple[str, ...]

    @property
    def all_measured(self) -> bool:
        """True when no night's energy figure is an estimate."""
        return bool(self.energy_methods) and "estimate" not in self.energy_methods


def _scope_parts(scope: Scope) -> list[str]:
    return [f"{column}={value}" for column, value in scope.filters]


def _json_list(text: str | None) -> list[Any]:
    """Decode a JSON list column; anything else (NULL, malformed) reads as an empty list."""
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
          ) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or {})
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
           ) -> pd.DataFrame:
    return con.execute(sql, params or {}).df()


_CARD_FIELDS = frozenset(f.name for f in fields(AnswerCard))


def card_from_row(row: dict[str, Any]) -> AnswerCard:
    """A card from an ``answers``-shaped row (columns a card does not show are left out)."""
    return _card({k: v for k, v in row.items() if k in _CARD_FIELDS})


def _card(row: dict[str, Any]) -> AnswerCard:
    reasons = tuple(str(r) for r in _json_list(row.pop("reasons", None)))
    chart = [r for r in _json_list(row.pop("chart_data")) if isinstance(r, dict)]
    return AnswerCard(chart_data=chart, reasons=reasons,
                      **{**row, "headline": row["headline"] or row["question_text"],
                         "narrative": row["narrative"] or ""})


def snapshot_info(con: duckdb.DuckDBPyConnection) -> SnapshotMeta:
    """The snapshot's night, the morning it serves, how fresh its data is, and the next window,
    decoded by the snapshot contract (``SnapshotContractError`` names a key that does not decode)."""
    return SnapshotMeta.from_rows(con.execute(f"SELECT key, value FROM {META_TABLE}").fetchall())


def _user(row: tuple) -> User | None:
    try:
        return user_from_row(row)
    except ValueError:
        return None


def list_users(con: duckdb.DuckDBPyConnection) -> list[User]:
    """Every user in the snapshot's directory, by name; a malformed scope reads as no user."""
    rows = con.execute(f"{USER_SELECT} ORDER BY name, user_id").fetchall()
    return [u for u in map(_user, rows) if u is not None]


def find_user(con: duckdb.DuckDBPyConnection, user_id: str) -> User | None:
    """The user with exactly this ``user_id``, else None."""
    row = con.execute(f"{USER_SELECT} WHERE user_id = ?",
                      [user_id or ""]).fetchone()
    return _user(row) if row else None


def briefing_for(con: duckdb.DuckDBPyConnection, user_id: str) -> list[AnswerCard]:
    """The user's briefing, best first: only answers inside the user's scope, each with reasons."""
    user = find_user(con, user_id)
    if user is None:
        return []
    rows = _rows(con, f"""
        SELECT {_CARD_COLUMNS}, b.rank, b.score, b.reasons
        FROM briefings b JOIN answers a USING (answer_id)
        WHERE b.user_id = $user_id AND {_IN_SCOPE}
        ORDER BY b.rank, b.score DESC NULLS LAST, a.answer_id
    """, {"user_id": user.user_id, "scope": _scope_parts(user.scope)})
    return [_card(r) for r in rows]


def answer_in_scope(con: duckdb.DuckDBPyConnection, answer_id: str, scope: Scope
                    ) -> AnswerCard | None:
    """One answer, or None when it does not exist or lies outside ``scope``."""
    rows = _rows(con, f"SELECT {_CARD_COLUMNS} FROM answers a WHERE a.answer_id = $id AND {_IN_SCOPE}",
                 {"id": answer_id, "scope": _scope_parts(scope)})
    return _card(rows[0]) if rows else None


def answers_in_scope(con: duckdb.DuckDBPyConnection, scope: Scope, limit: int = 500) -> pd.DataFrame:
    """The questions answered last night that a reader with ``scope`` may read."""
    return _frame(con, f"""
        SELECT a.question_text AS question, a.headline, a.scope_key AS scope, a.answer_id
        FROM answers a WHERE {_IN_SCOPE}
        ORDER BY a.question_text LIMIT $limit
    """, {"scope": _scope_parts(scope), "limit": limit})


def savings_by_night(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per night, oldest first, with hit rate, waste and energy in Wh added."""
    frame = _frame(con, """
        SELECT night, questions, hits, misses, answers_computed, answers_read,
               hits / nullif(questions, 0) AS hit_rate,
               1 - answers_read / nullif(answers_computed, 0) AS waste_ratio,
               batch_joules / 3600 AS batch_wh, live_joules_per_answer / 3600 AS live_wh_per_answer,
               live_joules_avoided / 3600 AS live_wh_avoided, net_joules / 3600 AS net_wh,
               energy_method, price_per_kwh, peak_price_per_kwh, carbon_g_per_kwh,
               peak_carbon_g_per_kwh, net_cost, net_co2_g, method_note
        FROM savings ORDER BY night
    """)
    frame["night"] = pd.to_datetime(frame["night"])
    return frame


def savings_summary(con: duckdb.DuckDBPyConnection) -> SavingsSummary:
    """Totals across all nights: avoided live queries, hit rate, waste, Wh, money and CO2."""
    (nights, questions, hits, misses, computed, read, batch_j, avoided_j, net_j, cost, co2, methods,
     notes) = con.execute("""
        SELECT count(*), coalesce(sum(questions), 0), coalesce(sum(hits), 0),
               coalesce(sum(misses), 0), coalesce(sum(answers_computed), 0),
               coalesce(sum(answers_read), 0), coalesce(sum(batch_joules), 0),
               coalesce(sum(live_joules_avoided), 0), coalesce(sum(net_joules), 0),
               coalesce(sum(net_cost), 0), coalesce(sum(net_co2_g), 0),
               list_sort(list_distinct(list(energy_method))),
               list_sort(list_distinct(list(method_note)))
        FROM savings
    """).fetchone()
    return SavingsSummary(
        nights=nights, questions=int(questions), hits=int(hits), misses=int(misses),
        hit_rate=hits / questions if questions else None,
        answers_computed=int(computed), answers_read=int(read),
        waste_ratio=1 - read / computed if computed else None,
        batch_wh=batch_j / JOULES_PER_WH, live_wh_avoided=avoided_j / JOULES_PER_WH,
        net_wh=net_j / JOULES_PER_WH, net_cost=float(cost), net_co2_g=float(co2),
        energy_methods=tuple(m for m in methods if m), method_notes=tuple(n for n in notes if n),
    )


def energy_by_tier(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Pre-computing energy per night, tier and measurement method (non-LLM assets are tier None)."""
    frame = _frame(con, """
        SELECT night, tier, method, sum(joules) / 3600 AS wh, sum(seconds) AS seconds,
               sum(items) AS items, string_agg(DISTINCT asset, ', ' ORDER BY asset) AS assets
        FROM energy_log GROUP BY night, tier, method ORDER BY night, tier NULLS FIRST, method
    """)
    frame["night"] = pd.to_datetime(frame["night"])
    frame["tier_label"] = [f"tier {int(t)}" if pd.notna(t) else "pipeline" for t in frame["tier"]]
    return frame


def answers_by_tier(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Tonight's answers per cascade tier and model, with their energy and measurement method."""
    return _frame(con, """
        SELECT tier, coalesce(model, 'template') AS model, energy_method AS method,
               count(*) AS answers, sum(joules) AS joules
        FROM answers GROUP BY ALL ORDER BY tier, model
    """)


def live_baseline(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """The latest measured cost of answering one question live, one at a time, or None."""
    rows = _rows(con, """
        SELECT night, model, method, answers, joules_per_answer, seconds_per_answer,
               batch_joules_per_answer, batch_seconds_per_answer, measured_at
        FROM live_baseline ORDER BY night DESC, measured_at DESC LIMIT 1
    """)
    return rows[0] if rows else None


def pipeline_runs(con: duckdb.DuckDBPyConnection, nights: int = 7) -> pd.DataFrame:
    """Asset runs of the last ``nights`` nights, newest first, in the order they started."""
    return _frame(con, """
        SELECT night, run_id, asset, status, started_at, seconds, joules / 3600 AS wh,
               energy_method, detail
        FROM asset_runs
        WHERE night IN (SELECT DISTINCT night FROM asset_runs ORDER BY night DESC LIMIT $nights)
        ORDER BY night DESC, started_at, asset
    """, {"nights": nights})


def run_summary(con: duckdb.DuckDBPyConnection, nights: int = 7) -> pd.DataFrame:
    """One row per night and run: overall status, assets, wall time and energy."""
    return _frame(con, """
        SELECT night, run_id,
               CASE WHEN bool_or(status = 'failed') THEN 'failed'
                    WHEN bool_and(status = 'success') THEN 'success'
                    ELSE 'partial' END AS status,
               count(*) AS assets, min(started_at) AS started_at, sum(seconds) AS seconds,
               sum(joules) / 3600 AS wh
        FROM asset_runs
        WHERE night IN (SELECT DISTINCT night FROM asset_runs ORDER BY night DESC LIMIT $nights)
        GROUP BY night, run_id ORDER BY night DESC, started_at DESC
    """, {"nights": nights})


def asset_freshness(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per asset: the last successful night and when it ran, and its most recent status."""
    return _frame(con, """
        SELECT asset,
               max(night) FILTER (WHERE status = 'success') AS last_success_night,
               max(started_at) FILTER (WHERE status = 'success') AS last_success_at,
               arg_max(status, started_at) AS latest_status
        FROM asset_runs GROUP BY asset ORDER BY min(started_at), asset
    """)


def quarantine_summary(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Quarantined order rows per file and reason, most rows first."""
    return _frame(con, "SELECT source_file, reason, rows, last_at FROM quarantine_summary "
                       "ORDER BY rows DESC, source_file")


def quarantine_sample(con: duckdb.DuckDBPyConnection, limit: int = 50) -> pd.DataFrame:
    """The most recently quarantined rows, with file, row number, reason and the raw text."""
    return _frame(con, """SELECT source_file, row_number, reason, raw, quarantined_at
                          FROM quarantine_sample ORDER BY quarantined_at DESC, row_number
                          LIMIT $limit""", {"limit": limit})


def unmapped_backlog(con: duckdb.DuckDBPyConnection, limit: int = 100) -> pd.DataFrame:
    """Questions the catalogue could not map, grouped by text: how often, by whom, closest intents."""
    frame = _frame(con, """
        SELECT any_value(question ORDER BY asked_at DESC) AS question, count(*) AS times_asked,
               count(DISTINCT user_id) AS users, max(asked_at) AS last_asked,
               any_value(closest ORDER BY asked_at DESC) AS closest
        FROM unmapped_questions
        GROUP BY lower(trim(question))
        ORDER BY times_asked DESC, last_asked DESC LIMIT $limit
    """, {"limit": limit})
    frame["closest"] = [", ".join(map(str, _json_list(c))) if str(c or "").startswith("[") else c
                        for c in frame["closest"]]
    return frame


@dataclass(frozen=True)
class Freshness:
    """How current a snapshot is on ``today``."""

    days_behind: int | None   # days the briefing's as-of date is before today (0 = today's)
    data_lag_days: int | None  # days between the last order date and the as-of date

    @property
    def stale(self) -> bool:
        """True when the snapshot serves an earlier morning than today (a night did not publish)."""
        return bool(self.days_behind and self.days_behind > 0)


def freshness(info: SnapshotMeta, today: date) -> Freshness:
    """How far the snapshot's morning is behind ``today`` and how far its data lags that morning."""
    behind = (today - info.as_of).days if info.as_of else None
    lag = (info.as_of - info.data_through).days if info.as_of and info.data_through else None
    return Freshness(behind, lag)


def learned_phrasings(con: duckdb.DuckDBPyConnection, limit: int = 200) -> pd.DataFrame:
    """Question texts the night learned to read (newest first): the reading, its status
    (accepted, needs_review, approved, rejected_by_admin), who asked, which model proposed it."""
    frame = _frame(con, """SELECT question, spec, status, learned_night, asked_by, model, decided_by, decided_at
                           FROM learned_phrasings ORDER BY learned_night DESC, question LIMIT $limit""",
                   {"limit": limit})
    frame["reading"] = [_spec_reading(s) for s in frame["spec"]]
    return frame.drop(columns=["spec"])[["question", "reading", "status", "learned_night", "asked_by", "model",
                                         "decided_by", "decided_at"]]


def _spec_reading(spec: str | None) -> str:
    """A query spec as one line: ``total · revenue · last_month · state=Texas``."""
    data = json.loads(spec) if spec else {}
    parts = [str(data[k]) for k in ("shape", "metric", "period", "dimension", "n", "grain", "compare") if data.get(k)]
    parts += [f"{f['dimension']}={f['value']}" for f in data.get("filters") or []]
    if data.get("share_of"):
        parts.append(f"share of {data['share_of']['value']}")
    return " · ".join(parts)


def backlog_results(con: duckdb.DuckDBPyConnection, limit: int = 100) -> pd.DataFrame:
    """What the latest nights made of their backlog questions: status and reason, newest first."""
    return _frame(con, """SELECT night, question, user_id, status, reason, model FROM backlog_results
                          ORDER BY night DESC, asked_at DESC LIMIT $limit""", {"limit": limit})


def llm_quality(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per night and kind of LLM reply (narrative, query_spec): replies, parsed, kept, and rates."""
    return _frame(con, """SELECT night, kind, model, replies, parsed, kept, parse_failure_rate,
                                 CASE WHEN replies > 0 THEN kept / replies END AS kept_rate
                          FROM llm_quality ORDER BY night DESC, kind""")
