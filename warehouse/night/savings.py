"""Savings, honestly: live queries avoided by a night's answers, net of what it cost to compute
them and of the answers nobody read.

For night N (answers served on day N+1), once day N+1 is over:
- questions: everything asked on day N+1 by known users (dashboard asks and logged questions);
- hits: dashboard questions the matcher served, plus logged questions (asked outside the
  dashboard) that the same matcher would have served from night N's answers;
- waste: answers computed that no hit or view read;
- energy: the night's measured joules (all assets, with their method) vs hits × the live cost
  per answer (measured one-at-a-time baseline, else a labelled estimate);
- money and CO2: avoided energy at the peak hour's price/intensity minus the night's energy at
  the chosen window's, from the configured time-of-use profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import numpy as np

from warehouse.forecasting.economics import latest_run_energy, measured_costs
from warehouse.language.matcher import AnswerIndex, match
from warehouse.storage.users import User, load_users

JOULES_PER_KWH = 3_600_000.0


@dataclass(frozen=True)
class Tariff:
    """Price and carbon of the run's window and of the peak hour it avoids."""

    price_per_kwh: float
    peak_price_per_kwh: float
    carbon_g_per_kwh: float
    peak_carbon_g_per_kwh: float


def _score_logged_questions(con: duckdb.DuckDBPyConnection, night: date, day: date,
                            users: dict[str, User], encode) -> tuple[int, set[str]]:
    """Match day's logged questions (no dashboard outcome) against night's answers."""
    rows = con.execute("""SELECT user_id, question FROM question_log
                          WHERE kind = 'ask' AND CAST(asked_at AS DATE) = ?""", [day]).fetchall()
    rows = [(u, q) for u, q in rows if u in users]
    if not rows:
        return 0, set()
    index = AnswerIndex.from_connection(con, night=night)
    vectors = encode([q for _, q in rows])
    hits, read = 0, set()
    for (user_id, question), vector in zip(rows, vectors):
        result = match(index, users[user_id], question, np.asarray(vector), asked_on=day)
        if result.hit:
            hits += 1
            read.add(result.answer_id)
    return hits, read


def compute_savings(con: duckdb.DuckDBPyConnection, night: date, tariff: Tariff, encode) -> dict | None:
    """The savings row of ``night``; None when the night has no answers."""
    computed = con.execute("SELECT count(*) FROM answers WHERE night = ?", [night]).fetchall()[0][0]
    if not computed:
        return None
    day = night + timedelta(days=1)
    users = {u.user_id: u for u in load_users(con)}
    dash = con.execute("""SELECT kind, answer_id FROM question_log
                          WHERE source = 'dashboard' AND CAST(asked_at AS DATE) = ?""", [day]).fetchall()
    dash_hits = [a for k, a in dash if k == "hit"]
    dash_questions = sum(k in ("hit", "miss", "live", "live_sql") for k, _ in dash)
    served_live_sql = sum(k == "live_sql" for k, _ in dash)
    viewed = {a for k, a in dash if k == "view" and a}
    log_hits, log_read = _score_logged_questions(con, night, day, users, encode)
    log_questions = con.execute("""SELECT count(*) FROM question_log WHERE kind = 'ask'
                                   AND CAST(asked_at AS DATE) = ?""", [day]).fetchall()[0][0]
    questions = dash_questions + log_questions
    hits = len(dash_hits) + log_hits
    read = len(viewed | set(dash_hits) | log_read)
    batch_joules, methods = latest_run_energy(con, night)
    costs = measured_costs(con, before=day)
    avoided = hits * costs.live_joules
    net = avoided - batch_joules
    avoided_kwh, batch_kwh = avoided / JOULES_PER_KWH, batch_joules / JOULES_PER_KWH
    return {
        "night": night, "questions": questions, "hits": hits, "misses": questions - hits,
        "answers_computed": computed, "answers_read": read, "batch_joules": batch_joules,
        "live_joules_per_answer": costs.live_joules, "live_joules_avoided": avoided, "net_joules": net,
        "energy_method": methods or "none",
        "price_per_kwh": tariff.price_per_kwh, "peak_price_per_kwh": tariff.peak_price_per_kwh,
        "carbon_g_per_kwh": tariff.carbon_g_per_kwh, "peak_carbon_g_per_kwh": tariff.peak_carbon_g_per_kwh,
        "net_cost": avoided_kwh * tariff.peak_price_per_kwh - batch_kwh * tariff.price_per_kwh,
        "net_co2_g": avoided_kwh * tariff.peak_carbon_g_per_kwh - batch_kwh * tariff.carbon_g_per_kwh,
        "method_note": f"night energy: {methods or 'none'}; {costs.method}; "
                       "money and CO2 from the configured time-of-use profile (estimates)",
        "served_live_sql": served_live_sql,
    }


def store_savings(con: duckdb.DuckDBPyConnection, row: dict) -> None:
    """Insert or replace one night's savings row."""
    con.execute("DELETE FROM savings WHERE night = ?", [row["night"]])
    columns = list(row)
    con.execute(f"INSERT INTO savings ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                [row[c] for c in columns])
