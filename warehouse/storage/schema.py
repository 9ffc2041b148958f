"""The working warehouse's schema as an ordered registry of named migrations."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

_ORDER_COLUMNS = """
    order_id VARCHAR NOT NULL, order_date DATE NOT NULL, ship_date DATE,
    customer_id VARCHAR NOT NULL, customer_name VARCHAR, segment VARCHAR, country VARCHAR,
    region VARCHAR, state VARCHAR, city VARCHAR, product_id VARCHAR NOT NULL, category VARCHAR,
    sub_category VARCHAR, product_name VARCHAR, quantity DOUBLE, sales DOUBLE, discount DOUBLE,
    profit DOUBLE, rep_id VARCHAR, rep_name VARCHAR, channel VARCHAR
"""

MIGRATIONS: list[tuple[str, str]] = [
    ("001_sources", f"""
        CREATE TABLE orders ({_ORDER_COLUMNS}, source_file VARCHAR, source_row BIGINT);
        CREATE TABLE returns (order_id VARCHAR NOT NULL, source_file VARCHAR);
        CREATE TABLE ingested_files (
            sha256 VARCHAR PRIMARY KEY, file_name VARCHAR, kind VARCHAR, layout VARCHAR,
            rows_loaded BIGINT, rows_quarantined BIGINT, ingested_at TIMESTAMP);
        CREATE TABLE quarantine (
            source_file VARCHAR, row_number BIGINT, reason VARCHAR, raw VARCHAR,
            quarantined_at TIMESTAMP);
        CREATE TABLE users (user_id VARCHAR PRIMARY KEY, name VARCHAR, role VARCHAR, scope VARCHAR);
        CREATE TABLE question_log (
            event_id VARCHAR PRIMARY KEY, user_id VARCHAR, asked_at TIMESTAMP, question VARCHAR,
            kind VARCHAR, answer_id VARCHAR, similarity DOUBLE, source VARCHAR,
            ingested_at TIMESTAMP);
    """),
    ("002_night_outputs", """
        CREATE TABLE data_signals (
            night DATE, scope_key VARCHAR, signal VARCHAR, metric VARCHAR, period VARCHAR,
            value DOUBLE, baseline DOUBLE, band DOUBLE, detail VARCHAR);
        CREATE TABLE question_understanding (
            question VARCHAR PRIMARY KEY, intent_id VARCHAR, params VARCHAR, confidence DOUBLE,
            mapped BOOLEAN, closest VARCHAR);
        CREATE TABLE forecast (
            night DATE, user_id VARCHAR, rank INTEGER, instance_key VARCHAR, intent_id VARCHAR,
            params VARCHAR, score DOUBLE, hit_probability DOUBLE, reasons VARCHAR);
        CREATE TABLE question_instances (
            night DATE, instance_key VARCHAR, intent_id VARCHAR, params VARCHAR,
            question_text VARCHAR, n_users INTEGER);
        CREATE TABLE facts (
            night DATE, instance_key VARCHAR, numbers VARCHAR, result VARCHAR,
            key_figures VARCHAR, sql_ms DOUBLE);
        CREATE TABLE answers (
            night DATE, answer_id VARCHAR, instance_key VARCHAR, intent_id VARCHAR,
            params VARCHAR, scope_key VARCHAR, question_text VARCHAR, headline VARCHAR,
            narrative VARCHAR, key_label VARCHAR, key_value DOUBLE, previous_value DOUBLE,
            delta DOUBLE, delta_pct DOUBLE, direction VARCHAR, unit VARCHAR, chart_kind VARCHAR,
            chart_data VARCHAR, numbers VARCHAR, tier INTEGER, model VARCHAR,
            tokens_in INTEGER, tokens_out INTEGER, joules DOUBLE, energy_method VARCHAR,
            grounded BOOLEAN, fallback_reason VARCHAR);
        CREATE TABLE briefings (
            night DATE, user_id VARCHAR, rank INTEGER, answer_id VARCHAR, score DOUBLE,
            reasons VARCHAR);
        CREATE TABLE energy_log (
            night DATE, run_id VARCHAR, asset VARCHAR, tier INTEGER, method VARCHAR,
            joules DOUBLE, seconds DOUBLE, items INTEGER, detail VARCHAR, measured_at TIMESTAMP);
        CREATE TABLE live_baseline (
            night DATE, model VARCHAR, method VARCHAR, answers INTEGER,
            joules_per_answer DOUBLE, seconds_per_answer DOUBLE, batch_joules_per_answer DOUBLE,
            batch_seconds_per_answer DOUBLE, measured_at TIMESTAMP);
        CREATE TABLE savings (
            night DATE PRIMARY KEY, questions INTEGER, hits INTEGER, misses INTEGER,
            answers_computed INTEGER, answers_read INTEGER, batch_joules DOUBLE,
            live_joules_per_answer DOUBLE, live_joules_avoided DOUBLE, net_joules DOUBLE,
            energy_method VARCHAR, price_per_kwh DOUBLE, peak_price_per_kwh DOUBLE,
            carbon_g_per_kwh DOUBLE, peak_carbon_g_per_kwh DOUBLE, net_cost DOUBLE,
            net_co2_g DOUBLE, method_note VARCHAR);
        CREATE TABLE asset_runs (
            night DATE, run_id VARCHAR, asset VARCHAR, status VARCHAR, started_at TIMESTAMP,
            seconds DOUBLE, joules DOUBLE, energy_method VARCHAR, detail VARCHAR);
        CREATE TABLE unmapped_questions (
            night DATE, user_id VARCHAR, asked_at TIMESTAMP, question VARCHAR, closest VARCHAR);
        CREATE TABLE publications (
            night DATE, snapshot_file VARCHAR, published_at TIMESTAMP, answers INTEGER,
            users INTEGER);
    """),
    ("003_answer_phrasings", """
        CREATE TABLE answer_phrasings (
            night DATE, answer_id VARCHAR, text VARCHAR, embedding FLOAT[]);
    """),
    ("004_entity_values", """
        CREATE TABLE entity_values (column_name VARCHAR, value VARCHAR);
    """),
    ("005_signal_drilldowns", """
        ALTER TABLE data_signals ADD COLUMN filters VARCHAR;
    """),
    ("006_honest_names", """
        DROP TABLE IF EXISTS publications;
        ALTER TABLE question_understanding RENAME COLUMN closest TO reason;
    """),
    # Order lines get a natural key (see canonical.py). Lines loaded before had no line id, so
    # their key is the declared one: order_id + product_id + rank within their file. Copies of
    # one line (same key, same content) that older files loaded twice are removed, keeping the
    # first; same-key lines that differ are kept until a file carrying that key replaces them.
    ("007_order_line_keys", """
        ALTER TABLE orders ADD COLUMN line_id VARCHAR;
        ALTER TABLE orders ADD COLUMN line_key VARCHAR;
        UPDATE orders SET line_key = k.line_key FROM (
            SELECT rowid AS rid, 'op:' || to_json([order_id, product_id])::VARCHAR || '#' ||
                   row_number() OVER (PARTITION BY source_file, order_id, product_id
                                      ORDER BY source_row) AS line_key
            FROM orders) k
        WHERE orders.rowid = k.rid;
        DELETE FROM orders WHERE rowid IN (
            SELECT rid FROM (
                SELECT rowid AS rid, row_number() OVER (
                    PARTITION BY line_key, order_id, order_date, ship_date, customer_id,
                                 customer_name, segment, country, region, state, city, product_id,
                                 category, sub_category, product_name, quantity, sales, discount,
                                 profit, rep_id, rep_name, channel
                    ORDER BY source_file, source_row) AS copy
                FROM orders)
            WHERE copy > 1);
    """),
    ("008_user_access", """
        ALTER TABLE users ADD COLUMN access VARCHAR DEFAULT '';
        UPDATE users SET access = role WHERE role IN ('admin', 'data_engineer');
    """),
    ("009_savings_live_sql", """
        ALTER TABLE savings ADD COLUMN served_live_sql INTEGER DEFAULT 0;
    """),
    # Ship mode, an optional column of the line layout (a dimension of the default layer).
    ("010_ship_mode", """
        ALTER TABLE orders ADD COLUMN ship_mode VARCHAR;
    """),
    # The night's backlog pass (query specs from the LLM tier) and its LLM replies' quality.
    ("011_backlog_results", """
        CREATE TABLE backlog_results (
            night DATE, user_id VARCHAR, asked_at TIMESTAMP, question VARCHAR, status VARCHAR,
            reason VARCHAR, spec VARCHAR, answer_id VARCHAR, model VARCHAR);
        CREATE TABLE llm_quality (
            night DATE, kind VARCHAR, model VARCHAR, replies INTEGER, parsed INTEGER, kept INTEGER,
            parse_failure_rate DOUBLE);
    """),
]


class SchemaTooNewError(RuntimeError):
    """The warehouse was written by a newer Offpeak; upgrade Offpeak before opening it."""


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations this warehouse has not seen yet, in order; return their names."""
    con.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP)")
    done = {r[0] for r in con.execute("SELECT name FROM schema_migrations").fetchall()}
    known = {name for name, _ in MIGRATIONS}
    if done - known:
        raise SchemaTooNewError(f"the warehouse was written by a newer Offpeak (unknown migrations "
                                f"{sorted(done - known)}): upgrade Offpeak to open it")
    applied = []
    for name, sql in MIGRATIONS:
        if name in done:
            continue
        con.execute("BEGIN")
        try:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, now())", [name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied


@contextmanager
def open_warehouse(path: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the working warehouse read-write, migrated to the current schema."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        migrate(con)
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All-or-nothing: commit on success, roll back on any error."""
    con.execute("BEGIN")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def replace_night_rows(con: duckdb.DuckDBPyConnection, table: str, night, frame,
                       columns: list[str] | None = None) -> int:
    """Idempotently replace ``table``'s rows for ``night`` with the rows of a pandas frame."""
    if table not in _NIGHT_TABLES:
        raise ValueError(f"{table!r} is not a nightly table")
    with transaction(con):
        con.execute(f"DELETE FROM {table} WHERE night = ?", [night])
        if len(frame):
            cols = columns or list(frame.columns)
            con.register("_night_rows", frame)
            try:
                con.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM _night_rows")
            finally:
                con.unregister("_night_rows")
    return len(frame)


_NIGHT_TABLES = {"data_signals", "forecast", "question_instances", "facts", "answers", "briefings",
                 "energy_log", "live_baseline", "asset_runs", "unmapped_questions",
                 "answer_phrasings", "backlog_results", "llm_quality"}

