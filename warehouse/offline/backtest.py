"""``offpeak backtest``: replay history night by night and score the forecast + matcher.

For each day D in [start, end] the night before D sees only orders with order_date < D and log
questions asked before D; it forecasts, pre-computes (tier 0) and publishes an in-memory answer
index; each question asked on D goes through the matcher against that night's answers in the
asker's scope. A reactive semantic cache is replayed on the same log in the same run as the
baseline: it holds only questions asked before (any user, same scope), each computed on the last
day it was asked, so a hit is counted for it only when its numbers are still right on D (its
period resolves to the same dates).
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import duckdb
import numpy as np

from warehouse.offline.backtest_cache import SettledQueryCache
from warehouse.semantic.catalogue import CATALOGUE, instance_key
from warehouse.semantic.facts import build_sales_facts, compute_facts
from warehouse.language.query_spec import LearnedPhrasing, learned_index
from warehouse.forecasting.forecast import ForecastConfig, LoggedQuestion, forecast_all
from warehouse.storage.ingest import ingest_file
from warehouse.language.matcher import PhrasingCache, match
from warehouse.semantic.narrative import template_narrative
from warehouse.night.plan import compute_all_facts, load_history, plan_instances, scoped, understand_log
from warehouse.semantic.periods import resolve
from warehouse.storage.question_log import LogFileError, read_log
from warehouse.storage.schema import migrate
from warehouse.forecasting.signals import compute_signals
from warehouse.language.understanding import EntityIndex
from warehouse.storage.users import User, read_users, store_users

Say = Callable[[str], None]
RETURNS_NAMES = ("returns.csv", "returns.csv.gz", "returns.parquet")
QUESTION_COLUMNS = ["user_id", "asked_at", "question", "hit", "answer_id", "similarity", "answer_text",
                    "answer_numbers", "served_by"]
# What served a question: a pre-computed answer (``hit``), SQL at ask time on the understood
# question, SQL on a question read through a learned phrasing, or nothing (queued for tonight).
PRECOMPUTED, LIVE_SQL, LEARNED, MISSED = "precomputed", "live_sql", "learned", "missed"


class BacktestInputError(ValueError):
    """The backtest's inputs cannot be used; the message says which and why."""


@dataclass
class BacktestSummary:
    questions: int = 0
    hits: int = 0
    served_live_sql: int = 0
    served_learned: int = 0
    answers_computed: int = 0
    answers_read: int = 0
    reactive_hits: int = 0
    reactive_stale: int = 0
    nights: int = 0
    returns: str | None = None
    skipped: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        q = max(self.questions, 1)
        return {
            "questions": self.questions, "hits": self.hits, "hit_rate": round(self.hits / q, 4),
            "served_live_sql": self.served_live_sql, "served_live_sql_share": round(self.served_live_sql / q, 4),
            "served_learned": self.served_learned, "served_learned_share": round(self.served_learned / q, 4),
            "served_without_live_llm_share": round((self.hits + self.served_live_sql + self.served_learned) / q, 4),
            "learned_method": "no LLM runs in the backtest: learned phrasings come only from --learned",
            "live_sql_method": "a question understood (in the asker's scope) but not pre-computed is answered by "
                               "the same SQL on the order lines before the day, as Ask does",
            "answers_computed": self.answers_computed, "answers_read": self.answers_read,
            "waste_ratio": round(1 - self.answers_read / max(self.answers_computed, 1), 4),
            "baseline_reactive_hit_rate": round(self.reactive_hits / q, 4),
            "baseline_reactive_stale_served": self.reactive_stale,
            "hit_rate_vs_reactive": round(self.hits / self.reactive_hits, 2) if self.reactive_hits else None,
            "nights": self.nights, "skipped": self.skipped, "returns": self.returns, "seconds": round(self.seconds, 1),
            "baseline_method": "reactive semantic cache: questions asked before (any user, same scope), "
                               "same matcher; a hit counts only if its period still resolves to the same dates",
        }


def returns_beside(orders: Path) -> Path | None:
    """A returns file next to the orders file (``returns.csv[.gz]``, as Superstore ships), or None."""
    return next((orders.parent / name for name in RETURNS_NAMES if (orders.parent / name).is_file()), None)


@dataclass(frozen=True)
class BacktestFiles:
    """The files a backtest reads: order lines, returned orders (optional), users, question log."""

    orders: Path
    returns: Path | None
    users: Path
    log: Path


def _load_inputs(con, files: BacktestFiles, start: date, end: date, summary: BacktestSummary) -> dict[str, User]:
    """Load users, orders, returns and the log into ``con``; return the users by id."""
    orders, returns, log = files.orders, files.returns, files.log
    users = {u.user_id: u for u in read_users(files.users)}
    store_users(con, list(users.values()))
    if not orders.exists():
        raise BacktestInputError(f"{orders}: no such orders file")
    ingest_file(con, orders)
    if returns is not None:
        if not returns.exists():
            raise BacktestInputError(f"{returns}: no such returns file")
        ingest_file(con, returns)
    summary.returns = str(returns) if returns else None
    first, last = con.execute("SELECT min(order_date), max(order_date) FROM orders").fetchall()[0]
    if first is None:
        raise BacktestInputError(f"{orders}: no valid order lines")
    if start > last + timedelta(days=1) or end <= first:
        raise BacktestInputError(f"range {start}..{end} is outside the orders' dates {first}..{last}")
    if not log.exists():
        raise BacktestInputError(f"{log}: no such log file")
    try:
        frame, bad = read_log(log)
    except LogFileError as exc:
        raise BacktestInputError(str(exc)) from None
    summary.skipped["bad_rows"] = len(bad)
    known = frame["user_id"].isin(list(users))
    summary.skipped["unknown_user"] = int((~known).sum())
    frame = frame[known]
    if frame.empty:
        raise BacktestInputError(f"{log}: no usable questions (bad rows: {len(bad)}, unknown users: "
                                 f"{summary.skipped['unknown_user']})")
    con.register("_log", frame)
    con.execute("INSERT INTO question_log SELECT event_id, user_id, asked_at, question, 'ask', NULL, NULL, "
                "'backtest', now() FROM _log")
    con.unregister("_log")
    return users


def _read_learned(path: Path) -> dict[str, LearnedPhrasing]:
    """Learned phrasings from a CSV with columns question, spec, status (extra columns ignored)."""
    if not path.exists():
        raise BacktestInputError(f"{path}: no such learned-phrasings file")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    missing = {"question", "spec", "status"} - set(rows[0] if rows else ())
    if rows and missing:
        raise BacktestInputError(f"{path}: missing columns {', '.join(sorted(missing))}")
    return learned_index(SimpleNamespace(model=r.get("model", "file"), learned_night=r.get("learned_night", ""),
                                         **{k: r[k] for k in ("question", "spec", "status")}) for r in rows)


def _same_dates(intent_id: str, params: dict[str, Any], then: date, now: date) -> bool:
    """Whether an answer computed on ``then`` still has the right numbers on ``now``."""
    period = params.get("period")
    if period in (None, "last_12_weeks", "last_12_months"):
        grain = CATALOGUE[intent_id].fixed.get("grain")
        if grain == "week":
            return then - timedelta(days=then.weekday()) == now - timedelta(days=now.weekday())
        return (then.year, then.month) == (now.year, now.month)
    return resolve(period, then).current == resolve(period, now).current


def run_backtest(orders: Path, users_path: Path, log: Path, start: date, end: date, out_dir: Path, *,
                 encode, say: Say = lambda s: print(s, flush=True),
                 cfg: ForecastConfig | None = None, returns: Path | None = None,
                 learned: Path | None = None) -> dict[str, Any]:
    """Replay [start, end]; write questions.csv and summary.json into ``out_dir``.

    A question not pre-computed but understood is served by live SQL (``served_by``), as Ask
    does; ``learned`` (a CSV of learned phrasings: question, spec, status) lets understanding
    read more questions, re-verified per asker and day (``served_by`` learned).

    ``returns`` (default: ``returns_beside(orders)``) flags returned orders; without one, return
    rates are unknown, so return-rate questions are not pre-computed (they count as misses)
    rather than answered with a rate of 0."""
    if end < start:
        raise BacktestInputError(f"--to {end} is before --from {start}")
    began = time.perf_counter()
    summary = BacktestSummary()
    con = duckdb.connect()
    migrate(con)
    files = BacktestFiles(orders, returns or returns_beside(orders), users_path, log)
    users = _load_inputs(con, files, start, end, summary)
    build_sales_facts(con)
    entities = EntityIndex.from_connection(con)
    understand_log(con, entities)
    asked = con.execute("""SELECT user_id, asked_at, question FROM question_log
                           WHERE CAST(asked_at AS DATE) BETWEEN ? AND ? ORDER BY asked_at""", [start, end]).fetchall()
    say(f"backtest: {len(users)} users, {len(asked)} questions from {start} to {end}; returns: "
        f"{summary.returns or 'none (return-rate questions are not pre-computed)'}; embedding questions…")
    texts = sorted({q for _, _, q in asked})
    by_day: dict[date, list[tuple[str, datetime, str]]] = {}
    for row in asked:
        by_day.setdefault(row[1].date(), []).append(row)
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "questions.csv", "w", newline="", encoding="utf-8") as fh:
        replay = _Replay(
            con=con, queries=SettledQueryCache(con), users=users, entities=entities,
            question_vectors={t: np.asarray(v, dtype=np.float32) for t, v in zip(texts, encode(texts))} if texts else {},
            phrasings=PhrasingCache(encode), writer=csv.writer(fh), summary=summary, cfg=cfg or ForecastConfig(),
            learned=_read_learned(learned) if learned else {},
            understood={q: (i, json.loads(p)) for q, i, p in con.execute(
                "SELECT question, intent_id, params FROM question_understanding WHERE mapped").fetchall()})
        replay.writer.writerow(QUESTION_COLUMNS)
        day = start
        while day <= end:
            night_hits = replay.night(day, by_day.get(day, []))
            summary.nights += 1
            say(f"  {day}  questions {len(by_day.get(day, [])):>3}  hits {night_hits:>3}  "
                f"total hit rate {summary.hits / max(summary.questions, 1):.1%}")
            day += timedelta(days=1)
    summary.answers_read = len(replay.read)
    summary.seconds = time.perf_counter() - began
    result = summary.as_dict()
    (out_dir / "summary.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


@dataclass
class _Replay:
    """The state a backtest carries from night to night (the log and users never change)."""

    con: duckdb.DuckDBPyConnection
    queries: SettledQueryCache
    users: dict[str, User]
    entities: EntityIndex
    question_vectors: dict[str, np.ndarray]
    phrasings: PhrasingCache
    writer: Any
    summary: BacktestSummary
    cfg: ForecastConfig
    understood: dict[str, tuple[str, dict[str, Any]]]
    learned: dict[str, LearnedPhrasing] = field(default_factory=dict)
    logged: dict[tuple, LoggedQuestion | None] = field(default_factory=dict)  # load_history's memo
    reactive: dict[str, tuple[str, dict[str, Any], date]] = field(default_factory=dict)
    read: set[str] = field(default_factory=set)

    def night(self, day: date, todays: list[tuple[str, datetime, str]]) -> int:
        """Forecast and pre-compute the night before ``day``, then serve ``day``'s questions."""
        con, summary, users = self.con, self.summary, self.users
        build_sales_facts(con, before=day)
        self.queries.advance(day)
        history = load_history(con, users, before=day, memo=self.logged)
        signals = compute_signals(con, [u.scope for u in users.values()], day)
        predictions = forecast_all(list(users.values()), history, signals, day, self.cfg)
        planned = plan_instances(predictions)
        if summary.returns is None:
            planned = {k: p for k, p in planned.items() if p.params.get("metric") != "return_rate"}
        facts = compute_all_facts(self.queries, planned, day)
        summary.answers_computed += len(facts)
        entries = [(k, f.intent_id, f.params) for k, f in sorted(facts.items())]
        index = self.phrasings.index(entries, self.entities, self.learned)
        reactive_entries = sorted((k, i, p) for k, (i, p, _) in self.reactive.items())
        reactive_index = self.phrasings.index(reactive_entries, self.entities)
        hits = 0
        for user_id, asked_at, question in todays:
            user = users[user_id]
            vector = self.question_vectors[question]
            result = match(index, user, question, vector, asked_on=day)
            summary.questions += 1
            row = [user_id, asked_at.isoformat(), question, result.hit, "", "", "", "", MISSED]
            u = result.understanding
            if result.hit:
                hits += 1
                summary.hits += 1
                f = facts[result.answer_id]
                self.read.add(f"{day}|{result.answer_id}")
                row[4:] = [f"{day}|{result.answer_id}",
                           f"{result.similarity:.4f}" if result.similarity is not None else "",
                           template_narrative(f), json.dumps(f.numbers), PRECOMPUTED]
            elif u is not None and u.mapped and (summary.returns is not None or u.params.get("metric") != "return_rate"):
                # Ask's live SQL on the same order lines, as the dashboard does: no AI model
                f = compute_facts(self.queries, u.intent_id, u.params, day)
                served_by = LEARNED if u.origin == "learned" else LIVE_SQL
                summary.served_learned += served_by == LEARNED
                summary.served_live_sql += served_by == LIVE_SQL
                row[4:] = [f"{day}|{u.key()}", "", template_narrative(f), json.dumps(f.numbers), served_by]
            self.writer.writerow(row)
            rhit = match(reactive_index, user, question, vector, asked_on=day)
            if rhit.hit:
                intent_id, params, then = self.reactive[rhit.answer_id]
                if _same_dates(intent_id, params, then, day):
                    summary.reactive_hits += 1
                else:
                    summary.reactive_stale += 1
        for user_id, asked_at, question in todays:
            if question in self.understood:
                intent_id, params = self.understood[question]
                inside = scoped(params, users[user_id])
                if inside is not None:
                    self.reactive[instance_key(intent_id, inside)] = (intent_id, inside, day)
        return hits
