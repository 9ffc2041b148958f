"""`offpeak backtest` on the real Superstore orders: outputs, honest numbers, bad input."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.cli import main as offpeak
from tests.conftest import SUPERSTORE_ORDERS
from warehouse.offline.backtest import BacktestInputError, run_backtest
from warehouse.semantic.catalogue import CATALOGUE
from warehouse.storage.schema import migrate
from warehouse.demo.simulator import simulate_question_log, write_question_log
from warehouse.storage.users import parse_users

USERS_CSV = """user_id,name,role,scope
vp,Vera Vale,vp_sales,*
west,Sadie Pawthorne,regional_manager,region=West
east,Chuck Magee,regional_manager,region=East
tech,Tess Tran,category_manager,category=Technology
"""
START, END = date(2022, 3, 1), date(2022, 3, 14)
METRIC_COLUMN = {"revenue": "sales", "profit": "profit", "quantity": "quantity"}
QUESTION_COLUMNS = ["user_id", "asked_at", "question", "hit", "answer_id", "similarity", "answer_text",
                    "answer_numbers", "served_by"]


@pytest.fixture(scope="module")
def orders(superstore: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The raw Superstore order lines, as loaded (the oracle below recomputes from these)."""
    return superstore.execute("SELECT * EXCLUDE (source_file, source_row) FROM orders").df()


@pytest.fixture(scope="module")
def inputs(orders: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A users file and a simulated log from the year before START through END."""
    folder = tmp_path_factory.mktemp("backtest-inputs")
    users_path = folder / "users.csv"
    users_path.write_text(USERS_CSV, encoding="utf-8")
    log = simulate_question_log(parse_users(USERS_CSV), orders, date(2021, 9, 1), END, seed=5)
    return {"users": users_path, "log": write_question_log(log, folder / "log.csv")}


@pytest.fixture(scope="module")
def result(inputs: dict[str, Path], embedder, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("backtest-out")
    lines: list[str] = []
    summary = run_backtest(SUPERSTORE_ORDERS, inputs["users"], inputs["log"], START, END, out,
                           encode=embedder.encode, say=lines.append)
    return {"summary": summary, "out": out, "lines": lines}


def test_writes_one_row_per_question_in_range(result: dict, inputs: dict[str, Path]) -> None:
    frame = pd.read_csv(result["out"] / "questions.csv")
    assert list(frame.columns) == QUESTION_COLUMNS
    log = pd.read_csv(inputs["log"], parse_dates=["asked_at"])
    in_range = log[(log["asked_at"].dt.date >= START) & (log["asked_at"].dt.date <= END)]
    assert len(frame) == len(in_range) == result["summary"]["questions"] > 20
    assert json.loads((result["out"] / "summary.json").read_text()) == result["summary"]


def test_summary_has_the_promised_figures(result: dict) -> None:
    summary = result["summary"]
    for key in ("questions", "hits", "hit_rate", "answers_computed", "answers_read", "waste_ratio",
                "baseline_reactive_hit_rate"):
        assert key in summary, key
    assert summary["hits"] == int(pd.read_csv(result["out"] / "questions.csv")["hit"].sum())
    assert summary["nights"] == (END - START).days + 1
    assert summary["returns"] == str(SUPERSTORE_ORDERS.parent / "returns.csv")   # found beside the orders
    assert 0 < summary["answers_read"] <= summary["answers_computed"]
    assert summary["hit_rate"] >= 0.5, summary


def test_prints_progress_per_night(result: dict) -> None:
    nights = [line for line in result["lines"] if line.strip().startswith("2022-03-")]
    assert len(nights) == (END - START).days + 1


def _period(name: str, d: date) -> tuple[date, date] | None:
    """The issue's period conventions, written out again independently of warehouse.semantic.periods."""
    day = timedelta(days=1)
    monday = d - timedelta(days=d.weekday())
    first_of_month = d.replace(day=1)
    quarter_start = date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    previous_quarter_end = quarter_start - day
    return {
        "yesterday": (d - day, d - day),
        "last_7_days": (d - 7 * day, d - day),
        "last_week": (monday - 7 * day, monday - day),
        "this_week": (monday, d - day),
        "last_month": ((first_of_month - day).replace(day=1), first_of_month - day),
        "month_to_date": (first_of_month, d - day),
        "last_quarter": (date(previous_quarter_end.year, previous_quarter_end.month - 2, 1), previous_quarter_end),
        "quarter_to_date": (quarter_start, d - day),
        "last_year": (date(d.year - 1, 1, 1), date(d.year - 1, 12, 31)),
        "year_to_date": (date(d.year, 1, 1), d - day),
    }.get(name)


def test_served_kpi_answers_carry_the_numbers_pandas_computes(result: dict, orders: pd.DataFrame) -> None:
    """Recompute every served single-period KPI answer from the raw order lines."""
    frame = pd.read_csv(result["out"] / "questions.csv")
    served = frame[frame["served_by"] != "missed"]
    checked = 0
    for row in served.itertuples():
        night, key = row.answer_id.split("|", 1)
        intent_id, params = key.split("|", 1)
        params = json.loads(params)
        if CATALOGUE[intent_id].family != "kpi" or params.get("metric") not in METRIC_COLUMN:
            continue
        window = _period(params["period"], date.fromisoformat(night))
        if window is None:
            continue
        lines = orders[(orders["order_date"].dt.date >= window[0]) & (orders["order_date"].dt.date <= window[1])]
        for column, value in params.get("filters", {}).items():
            lines = lines[lines[column] == value]
        expected = float(lines[METRIC_COLUMN[params["metric"]]].sum())
        numbers = json.loads(row.answer_numbers)
        assert any(abs(n - expected) <= max(0.01, 1e-6 * abs(expected)) for n in numbers), \
            (row.question, row.answer_id, expected, numbers)
        checked += 1
    assert checked >= 5, f"only {checked} KPI answers served"


def test_never_serves_outside_the_askers_scope(result: dict) -> None:
    scopes = {"west": ("region", "West"), "east": ("region", "East"), "tech": ("category", "Technology")}
    frame = pd.read_csv(result["out"] / "questions.csv")
    for row in frame[frame["served_by"] != "missed"].itertuples():
        if row.user_id in scopes:
            column, value = scopes[row.user_id]
            params = json.loads(row.answer_id.split("|", 2)[2])
            assert params["filters"].get(column) == value, (row.user_id, row.answer_id)


def test_served_by_says_what_served_each_question_and_every_served_row_has_its_answer(result: dict) -> None:
    frame = pd.read_csv(result["out"] / "questions.csv", keep_default_na=False)
    summary = result["summary"]
    assert set(frame["served_by"]) <= {"precomputed", "live_sql", "learned", "missed"}
    assert (frame["hit"] == (frame["served_by"] == "precomputed")).all()      # hit keeps its meaning
    served = frame[frame["served_by"] != "missed"]
    assert (served["answer_text"] != "").all() and (served["answer_numbers"] != "").all()
    assert (frame.loc[frame["served_by"] == "missed", "answer_text"] == "").all()
    assert summary["served_live_sql"] == int((frame["served_by"] == "live_sql").sum()) > 0
    assert summary["served_learned"] == 0          # no LLM in the backtest, no --learned file
    assert summary["served_without_live_llm_share"] == round(len(served) / len(frame), 4)


def test_a_learned_file_without_its_columns_is_refused(inputs: dict[str, Path], embedder, tmp_path: Path) -> None:
    bad = tmp_path / "learned.csv"
    bad.write_text("question,reading\nrevenue last week,total\n", encoding="utf-8")
    with pytest.raises(BacktestInputError, match="missing columns spec, status"):
        run_backtest(SUPERSTORE_ORDERS, inputs["users"], inputs["log"], START, START, tmp_path / "out",
                     encode=embedder.encode, learned=bad)


def test_the_reactive_baseline_is_replayed_in_the_same_run(result: dict) -> None:
    summary = result["summary"]
    assert 0 <= summary["baseline_reactive_hit_rate"] < summary["hit_rate"]
    assert "reactive" in summary["baseline_method"]


def _write(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["user_id", "asked_at", "question"], *rows])
    return path


def test_unknown_users_and_bad_timestamps_are_counted_skips(inputs: dict[str, Path], embedder,
                                                            tmp_path: Path) -> None:
    log = _write(tmp_path / "log.csv", [
        ["west", "2022-03-01T09:00:00", "revenue last month"],
        ["nobody", "2022-03-01T09:05:00", "revenue last month"],
        ["west", "yesterday-ish", "profit last week"],
        ["east", "2022-03-01T09:10:00+01:00", "how did sales do last week?"],
    ])
    summary = run_backtest(SUPERSTORE_ORDERS, inputs["users"], log, date(2022, 3, 1), date(2022, 3, 1),
                           tmp_path / "out", encode=embedder.encode, say=lambda _: None)
    assert summary["questions"] == 2
    assert summary["skipped"] == {"bad_rows": 1, "unknown_user": 1}


@pytest.mark.parametrize("case, message", [
    ("empty log", "no usable questions"),
    ("range outside the data", "outside the orders' dates"),
    ("to before from", "before --from"),
    ("missing orders", "no such orders file"),
    ("bad header", "expected user_id,asked_at,question"),
])
def test_bad_input_gets_a_clear_error(case: str, message: str, inputs: dict[str, Path], embedder,
                                      tmp_path: Path) -> None:
    log, orders, start, end = inputs["log"], SUPERSTORE_ORDERS, START, END
    if case == "empty log":
        log = _write(tmp_path / "empty.csv", [])
    elif case == "range outside the data":
        start, end = date(2030, 1, 1), date(2030, 1, 31)
    elif case == "to before from":
        start, end = END, START
    elif case == "missing orders":
        orders = tmp_path / "nothing.csv"
    elif case == "bad header":
        log = tmp_path / "bad.csv"
        log.write_text("who,when,what\nwest,2022-03-01,revenue\n", encoding="utf-8")
    with pytest.raises(BacktestInputError, match=message):
        run_backtest(orders, inputs["users"], log, start, end, tmp_path / "out", encode=embedder.encode,
                     say=lambda _: None)


def test_the_command_turns_bad_input_into_one_line(inputs: dict[str, Path], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code = offpeak(["--home", str(tmp_path / "home"), "backtest", "--orders", str(SUPERSTORE_ORDERS),
                    "--users", str(inputs["users"]), "--log", str(_write(tmp_path / "e.csv", [])),
                    "--from", "2022-03-01", "--to", "2022-03-02", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("offpeak backtest:") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_dated_wording_counts_as_the_habit_it_meant(entities) -> None:
    """"Sales in February" asked on 1 March is last month's revenue in the user's history."""
    from warehouse.night.plan import understand_log
    con = duckdb.connect()
    migrate(con)
    con.execute("""INSERT INTO question_log VALUES
        ('e1', 'west', TIMESTAMP '2022-03-01 09:00', 'sales in February?', 'ask', NULL, NULL, 'test', now()),
        ('e2', 'west', TIMESTAMP '2022-04-01 09:00', 'sales in February?', 'ask', NULL, NULL, 'test', now())""")
    assert understand_log(con, entities) == (1, 0)
    intent_id, params = con.execute("SELECT intent_id, params FROM question_understanding").fetchall()[0]
    assert intent_id == "revenue_total" and json.loads(params)["period"] == "last_month"


def test_without_returns_return_rates_are_not_answered(inputs: dict[str, Path], embedder, tmp_path: Path) -> None:
    orders = tmp_path / "orders.csv.gz"
    orders.write_bytes(SUPERSTORE_ORDERS.read_bytes())          # no returns.csv beside this copy
    log = _write(tmp_path / "log.csv", [["vp", f"2022-03-0{d}T09:00:00", "what was the return rate last month?"]
                                        for d in range(1, 4)])
    def replay(orders_file: Path) -> dict:
        return run_backtest(orders_file, inputs["users"], log, date(2022, 3, 2), date(2022, 3, 3),
                            tmp_path / "out", encode=embedder.encode, say=lambda _: None)

    assert replay(SUPERSTORE_ORDERS)["hits"] >= 1              # with returns it is pre-computed
    without = replay(orders)
    assert without["returns"] is None and without["questions"] == 2 and without["hits"] == 0
