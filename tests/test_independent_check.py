"""The independent check (tests/independent/): its own log and truth, the real backtest, pandas.

The slow tests replay 1-16 March 2022 of the seed-7 log through `offpeak backtest` (subprocess,
temp OFFPEAK_HOME) and recompute every served answer on the raw Superstore orders.
"""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from tests.conftest import SUPERSTORE_ORDERS
from tests.independent.answer_reading import figure, ranking, share, stated_period
from tests.independent.calendar_rules import comparison_windows, resolve
from tests.independent.check import Checker
from tests.independent.evaluate import Run, is_served, judge_all, run_backtest, summary
from tests.independent.generate_log import generate, load_orders
from tests.independent.truth import Oracle

START, END, SEED = date(2022, 3, 1), date(2022, 3, 16), 7


def test_my_period_rules():
    asked = date(2022, 3, 2)  # a Wednesday
    assert resolve("yesterday", asked) == (date(2022, 3, 1), date(2022, 3, 1))
    assert resolve("last_week", asked) == (date(2022, 2, 21), date(2022, 2, 27))
    assert resolve("week_to_date", asked) == (date(2022, 2, 28), date(2022, 3, 1))
    assert resolve("last_month", asked) == (date(2022, 2, 1), date(2022, 2, 28))
    assert resolve("named_month", asked, 12) == (date(2021, 12, 1), date(2021, 12, 31))
    assert resolve("named_month", asked, 3) == (date(2021, 3, 1), date(2021, 3, 31))
    assert resolve("last_quarter", asked) == (date(2021, 10, 1), date(2021, 12, 31))
    assert comparison_windows("month_to_date", (date(2022, 3, 1), date(2022, 3, 10)), "prev") == [
        (date(2022, 2, 1), date(2022, 2, 10))]
    assert comparison_windows("yesterday", (date(2022, 3, 1),) * 2, "yoy") == [
        (date(2021, 3, 1),) * 2, (date(2021, 3, 2),) * 2]


def test_reading_answers():
    assert figure("-$20.14").value == -20.14 and figure("$3,301").matches(3300.81)
    assert not figure("$3,301").matches(3301.6)
    assert stated_period("Revenue in West last week (28 Feb–6 Mar 2022) was") == (
        date(2022, 2, 28), date(2022, 3, 6))
    assert stated_period("Profit Q4 2021 was") == (date(2021, 10, 1), date(2021, 12, 31))
    listing = ranking("Top 2 products by profit in East yesterday (Mon 28 Feb 2022): 1. Pressboard "
                      "Binders (Unburst) ($4.72); 2. Southworth 100% Paper, 24lb. ($3.50).")
    assert [(n, f.value) for n, f in listing.items] == [("Pressboard Binders (Unburst)", 4.72),
                                                       ("Southworth 100% Paper, 24lb.", 3.5)]
    stated = share("Washington brought $377 of $859 profit in Technology February 2022, a 43.9% share.")
    assert (stated.part, stated.piece.value, stated.share.value) == ("Washington", 377, 43.9)


@pytest.fixture(scope="module")
def oracle() -> Oracle:
    if not SUPERSTORE_ORDERS.exists():
        pytest.skip(f"{SUPERSTORE_ORDERS} not found")
    return Oracle(load_orders(SUPERSTORE_ORDERS), SUPERSTORE_ORDERS.parent / "returns.csv")


def test_checker_catches_a_wrong_figure_period_and_filter(oracle):
    checker = Checker(oracle)
    truth = {"shape": "scalar", "metric": "revenue", "start": "2022-02-01", "end": "2022-02-28",
             "compare": "none", "cmp_windows": "[]", "filters": json.dumps({"Region": "West"})}
    true = oracle.readings("revenue", {"Region": "West"}, (date(2022, 2, 1), date(2022, 2, 28)))[0]
    right = f"Revenue in West February 2022 was ${true:,.0f}, up 1.0% ($1) on January 2022 ($1)."
    assert checker.judge(truth, right).verdict == "right"
    assert checker.judge(truth, right.replace(f"${true:,.0f}", f"${true + 5:,.0f}")).verdict == "wrong"
    assert checker.judge(truth, right.replace("February", "March")).verdict == "wrong"
    assert checker.judge(truth, right.replace("in West", "in East")).verdict == "wrong"
    assert checker.judge({"shape": "unanswerable"}, right).verdict == "wrong"


def test_generator_is_determined_by_its_seed(oracle):
    a = generate(oracle.orders, seed=3, start=date(2022, 1, 1), end=date(2022, 2, 28))[1]
    b = generate(oracle.orders, seed=3, start=date(2022, 1, 1), end=date(2022, 2, 28))[1]
    c = generate(oracle.orders, seed=4, start=date(2022, 1, 1), end=date(2022, 2, 28))[1]
    assert a == b and a != c
    assert {r["shape"] for r in a} >= {"scalar", "compare", "topn", "breakdown", "unanswerable"}


@pytest.fixture(scope="module")
def judged(tmp_path_factory, oracle) -> pd.DataFrame:
    run = Run(tmp_path_factory.mktemp("independent"), START, END, SEED)
    run_backtest(run, timeout_s=300)
    return judge_all(run)


@pytest.mark.slow
def test_every_logged_question_is_replayed_and_judged(judged):
    counts = summary(judged)
    assert counts["questions"] > 100 and counts["served"] > 30
    served = judged[is_served(judged)]
    assert set(served["served_by"]) <= {"precomputed", "live_sql", "learned"}
    assert set(served["verdict"]) <= {"right", "wrong", "not-checkable"}
    unread = served["reasons"].str.contains("answer text not read")
    assert not unread.any(), served.loc[unread, "answer_text"].tolist()


@pytest.mark.slow
def test_the_checker_rejects_answers_served_for_other_questions(judged, oracle):
    """Give each served question the answer of another one: the checker must see it is wrong."""
    served = judged[is_served(judged)].reset_index(drop=True)
    shifted = served["answer_text"].iloc[list(range(7, len(served))) + list(range(7))].tolist()
    checker = Checker(oracle)
    pairs = [(row, text) for row, text in zip(served.to_dict("records"), shifted)
             if text != row["answer_text"]]
    accepted = sum(checker.judge(row, text).verdict == "right" for row, text in pairs)
    assert accepted <= 0.02 * len(pairs)


@pytest.mark.slow
def test_wrong_numbers_among_served_answers_at_most_one_percent(judged):
    counts = summary(judged)
    assert counts["wrong"] <= 0.01 * counts["served"], (
        judged.loc[judged["verdict"] == "wrong", ["question", "answer_text", "true_value",
                                                   "reasons"]].to_string())
