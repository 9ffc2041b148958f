"""The simulated question log: shape, determinism, habits, scope, reactions and surface noise."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from warehouse.demo.simulator import (
    LOG_COLUMNS, SIMULATOR_VERSION, persona_summary, simulate_question_log, write_question_log,
)
from warehouse.storage.users import parse_users

START, END = date(2023, 3, 1), date(2023, 8, 31)
DROP_WEEK = date(2023, 6, 5)          # a Monday: West Furniture sales fall 90% for this week
AFTER_DROP = (date(2023, 6, 12), date(2023, 6, 13))
GEOGRAPHY = {"West": {"California": "Los Angeles", "Oregon": "Portland"},
             "East": {"New York": "Buffalo", "Ohio": "Columbus"}}
CUSTOMERS = {"West": ("Ann Lee", "Bob Ray"), "East": ("Cara Diaz", "Dan Fox")}
CATALOGUE = {"Furniture": ("Chairs", "Tables"), "Technology": ("Phones", "Copiers"),
             "Office Supplies": ("Paper", "Binders")}
USERS_CSV = """user_id,name,role,scope
vp,Vera,vp_sales,*
west1,Wes,regional_manager,region=West
west2,Wendy,regional_manager,region=West
east1,Ed,regional_manager,region=East
tech,Tess,category_manager,category=Technology
cons,Connie,segment_lead,segment=Consumer
rep,Ray,sales_rep,state=California
adm,Ada,admin,*
eng,Eno,data_engineer,*
"""
REACTION_WORDS = re.compile(r"\b(?:drop|fall|fell|down|decline|dip|happened|explain|behind|why)\b")
DOWN_WORDS = re.compile(r"\b(?:drop|dropped|fall|fell|down|decline|declined|dip)\b")
MONTHS = "|".join(pd.date_range("2023-01-01", periods=12, freq="MS").strftime("%B").str.lower())
LAST_MONTH = re.compile(rf"last month|previous month|past month|month-over-month|\blm\b|last mo\b|\bmom\b"
                        rf"|in (?:{MONTHS})\b")
LAST_WEEK = re.compile(r"last week|previous week|past week|\blw\b|last wk")


def _orders() -> pd.DataFrame:
    """Nine steady months of order lines for two regions, with one planted drop."""
    rng = np.random.default_rng(0)
    rows = []
    for day in pd.date_range("2023-01-02", "2023-09-30", freq="D").date:
        for region, states in GEOGRAPHY.items():
            for s, (state, city) in enumerate(states.items()):
                for c, (category, subs) in enumerate(CATALOGUE.items()):
                    sales = 100.0 * (1 + 0.05 * rng.standard_normal())
                    if region == "West" and category == "Furniture" and DROP_WEEK <= day < DROP_WEEK + timedelta(7):
                        sales *= 0.1
                    sub = subs[day.day % 2]
                    rows.append({
                        "order_id": f"O-{day:%Y%m%d}-{region}-{s}-{c}", "order_date": day,
                        "ship_date": day + timedelta(days=3), "customer_id": f"C-{region}-{s}",
                        "customer_name": CUSTOMERS[region][s], "segment": ("Consumer", "Corporate")[day.day % 2],
                        "country": "United States", "region": region, "state": state, "city": city,
                        "product_id": f"P-{sub}", "category": category, "sub_category": sub,
                        "product_name": f"{sub} Deluxe", "quantity": 2, "sales": sales, "discount": 0.1,
                        "profit": 0.15 * sales})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    return _orders()


@pytest.fixture(scope="module")
def users():
    return parse_users(USERS_CSV)


@pytest.fixture(scope="module")
def log(users, orders) -> pd.DataFrame:
    return simulate_question_log(users, orders, START, END, seed=11)


@pytest.fixture(scope="module")
def other_log(users, orders) -> pd.DataFrame:
    return simulate_question_log(users, orders, START, END, seed=12)


def _of(log: pd.DataFrame, *user_ids: str) -> pd.Series:
    return log.loc[log["user_id"].isin(user_ids), "question"].str.lower()


def _mentions(texts: pd.Series, names) -> bool:
    pattern = r"\b(?:" + "|".join(re.escape(n.lower()) for n in names) + r")\b"
    return bool(texts.str.contains(pattern).any())


def test_version_is_exported():
    assert SIMULATOR_VERSION


def test_same_seed_gives_the_same_log(users, orders, log, other_log):
    again = simulate_question_log(users, orders, START, END, seed=11)
    pd.testing.assert_frame_equal(log, again)
    assert not log["question"].equals(other_log["question"])


def test_a_users_log_does_not_depend_on_who_else_is_simulated(users, orders, log):
    alone = simulate_question_log([u for u in users if u.user_id == "west1"], orders, START, END, seed=11)
    pd.testing.assert_frame_equal(alone, log[log["user_id"] == "west1"].reset_index(drop=True))


def test_columns_types_and_order(log):
    assert tuple(log.columns) == LOG_COLUMNS
    assert pd.api.types.is_datetime64_any_dtype(log["asked_at"])
    assert log["asked_at"].is_monotonic_increasing
    assert all(isinstance(q, str) and q.strip() == q and q for q in log["question"])


def test_only_known_users_and_days_in_range(users, log):
    assert set(log["user_id"]) <= {u.user_id for u in users}
    assert {u.user_id for u in users if u.role not in ("admin", "data_engineer")} <= set(log["user_id"])
    days = log["asked_at"].dt.date
    assert days.min() >= START and days.max() <= END


def test_mostly_working_day_mornings(log):
    assert (log["asked_at"].dt.day_of_week < 5).mean() > 0.95
    assert log["asked_at"].dt.hour.between(7, 9).mean() > 0.7


def test_leaders_ask_one_to_four_a_day_and_admins_rarely(log):
    working_days = len(pd.bdate_range(START, END))
    per_day = log.groupby("user_id").size() / working_days
    leaders = per_day.drop(["adm", "eng"], errors="ignore")
    assert leaders.between(1.0, 4.0).all(), leaders.to_dict()
    assert per_day.get("adm", 0) < 0.4 and per_day.get("eng", 0) < 0.4


def test_last_month_questions_cluster_on_the_first_working_days(log):
    days = pd.Series(pd.bdate_range(START, END))
    rank = dict(zip(days, days.groupby([days.dt.year, days.dt.month]).cumcount() + 1))
    first_days = log["asked_at"].dt.normalize().map(rank).le(3)
    asks_last_month = log["question"].str.lower().str.contains(LAST_MONTH)
    assert asks_last_month[first_days].mean() > 3 * asks_last_month[~first_days].mean()


def test_last_week_questions_cluster_on_mondays(log):
    monday = log["asked_at"].dt.day_of_week == 0
    asks_last_week = log["question"].str.lower().str.contains(LAST_WEEK)
    assert asks_last_week[monday].mean() > 2 * asks_last_week[~monday].mean()


def test_a_west_manager_only_names_the_west(log):
    west = _of(log, "west1", "west2")
    east_names = [*GEOGRAPHY["East"], *GEOGRAPHY["East"].values(), *CUSTOMERS["East"], "East"]
    assert not _mentions(west, east_names)
    assert _mentions(west, [*GEOGRAPHY["West"], *GEOGRAPHY["West"].values(), *CUSTOMERS["West"], "West"])


def test_a_category_manager_only_names_their_category(log):
    tech = _of(log, "tech")
    others = [c for c in CATALOGUE if c != "Technology"] + [s for c, subs in CATALOGUE.items()
                                                          if c != "Technology" for s in subs]
    assert not _mentions(tech, others)
    assert _mentions(tech, ["Technology", *CATALOGUE["Technology"]])


def test_west_managers_react_to_the_planted_drop_and_east_does_not(log, other_log):
    for seed, log in ((11, log), (12, other_log)):
        days = log["asked_at"].dt.date
        after = log[days.isin(AFTER_DROP)]
        west_after = _of(after, "west1", "west2", "vp")
        assert (west_after.str.contains("furniture") & west_after.str.contains(REACTION_WORDS)).any(), seed
        before = log[days < AFTER_DROP[0]]
        for texts in (_of(before, "west1", "west2", "vp"), _of(after, "east1")):
            assert not (texts.str.contains("furniture") & texts.str.contains(DOWN_WORDS)).any(), seed


def test_typos_touch_about_five_percent_and_stay_small(users, orders, log):
    clean = simulate_question_log(users, orders, START, END, seed=11, typo_rate=0.0)
    assert clean[["user_id", "asked_at"]].equals(log[["user_id", "asked_at"]])
    changed = clean["question"] != log["question"]
    assert 0.02 < changed.mean() < 0.09
    for a, b in zip(clean.loc[changed, "question"], log.loc[changed, "question"]):
        assert abs(len(a) - len(b)) <= 1 and len(set(a.split()) ^ set(b.split())) <= 2


def test_some_novel_questions_fall_outside_the_product(log):
    outside = log["question"].str.lower().str.contains(
        r"ship|in stock|forecast|pipeline|target|phone number|account manager|market share")
    assert 0 < outside.mean() < 0.15


def test_phrasing_varies_and_has_registers(log):
    questions = log["question"]
    assert questions.nunique() > 0.15 * len(questions)
    assert (questions == questions.str.lower()).mean() > 0.1                     # some all lower case
    assert questions.str.contains(r"\b(?:yday|lw|mtd|wtd|lm|rev)\b").any()          # terse
    assert questions.str.contains(r"(?i)please|could you|would you|thanks").any()  # polite


def test_write_question_log_writes_iso_csv(tmp_path, log):
    path = write_question_log(log, tmp_path / "sub" / "log.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "user_id,asked_at,question"
    assert re.match(r"^\w+,\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d,", lines[1])
    back = pd.read_csv(path, parse_dates=["asked_at"])
    assert back["question"].tolist() == log["question"].tolist()
    assert (back["asked_at"] == log["asked_at"]).all()


def test_a_scope_without_matching_orders_still_asks(orders):
    users = parse_users("user_id,name,role,scope\nnew,Nia,sales_rep,rep_name=Nia Ortiz\n")
    log = simulate_question_log(users, orders, START, END)
    assert len(log) > 50 and log["question"].str.len().gt(0).all()


def test_rejects_an_end_before_the_start(users, orders):
    with pytest.raises(ValueError, match="before start"):
        simulate_question_log(users, orders, END, START)


def test_persona_summary_lists_each_users_habits(users, orders):
    summary = persona_summary(users, orders, seed=11)
    assert set(summary["user_id"]) == {u.user_id for u in users}
    assert summary["example"].str.len().gt(0).all()
    assert summary["probability"].between(0, 1).all()
    west = summary[summary["user_id"].isin(["west1", "west2"])]
    assert {"daily", "monday"} <= set(west["cadence"])


def test_a_year_for_twenty_users_takes_seconds(orders):
    lines = ["user_id,name,role,scope"] + [
        f"u{i},User {i},{role},{scope}" for i, (role, scope) in enumerate(
            [("vp_sales", "*"), ("regional_manager", "region=West"), ("regional_manager", "region=East"),
             ("category_manager", "category=Furniture"), ("segment_lead", "segment=Corporate")] * 4)]
    started = time.process_time()
    log = simulate_question_log(parse_users("\n".join(lines)), orders, date(2023, 1, 1), date(2023, 12, 31))
    assert time.process_time() - started < 15
    assert log["user_id"].nunique() == 20
