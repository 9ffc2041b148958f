"""The users directory: free-text roles, personas from known titles, rights only from `access`."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest

from warehouse.forecasting.forecast import ForecastConfig, LoggedQuestion, forecast_all
from warehouse.storage.schema import MIGRATIONS, migrate
from warehouse.storage.users import (Scope, User, UsersFileError, load_users, parse_users, persona_of,
                                     store_users, users_to_csv)

TITLES = """user_id,name,role,scope,access
u1,Vera Price,VP of Sales,*,
u2,Wes Turner,Regional Sales Director - West,region=West,
u3,Fay Ng,Head of Furniture,category=Furniture,
u4,Al Ito,Account Executive,region=East;state=New York,
u5,Ada Lee,IT Operations,*,admin
u6,Dan Roe,Analytics Engineer,*,data_engineer;admin
u7,Sam Cho,System Administrator,*,
u8,Kim Park,Head of Furniture,category=Furniture,
"""


def test_a_directory_of_job_titles_is_accepted_as_it_is():
    users = {u.user_id: u for u in parse_users(TITLES)}
    assert len(users) == 8 and users["u2"].role == "Regional Sales Director - West"
    assert [users[u].persona for u in ("u1", "u2", "u3", "u4")] == ["vp_sales", "regional_manager", None, "sales_rep"]


@pytest.mark.parametrize("title, persona", [
    ("vp of sales", "vp_sales"), ("VICE PRESIDENT OF SALES", "vp_sales"), ("vp_sales", "vp_sales"),
    ("Regional Manager (South)", "regional_manager"), ("Category Manager, Technology", "category_manager"),
    ("Sales Rep", "sales_rep"), ("Segment Lead – Consumer", "segment_lead"),
    ("VP of Sales & Marketing", "vp_sales"),
    # not known word for word: never the nearest persona
    ("VP of Salse", None), ("Sales", None), ("Regional", None), ("Head of Furniture", None),
    ("Chief Executive Officer", None), ("Sales Operations Analyst", None),
])
def test_a_title_maps_to_a_persona_only_when_known_word_for_word(title, persona):
    assert persona_of(title) == persona


def test_rights_come_from_the_access_column_never_from_a_title():
    users = {u.user_id: u for u in parse_users(TITLES)}
    assert users["u5"].is_admin and users["u6"].may("data_engineer") and users["u6"].is_admin
    assert not users["u7"].is_admin and not users["u7"].may("data_engineer")  # "Administrator" is a title
    assert not any(users[u].access for u in ("u1", "u2", "u3", "u4", "u8"))


def test_the_four_column_form_keeps_its_role_codes_rights():
    users = parse_users("user_id,name,role,scope\na,Ann,admin,*\nd,Dee,data_engineer,*\nv,Vic,Admin,*\n")
    assert [sorted(u.access) for u in users] == [["admin"], ["data_engineer"], []]


@pytest.mark.parametrize("text, message", [
    ("user_id,name,role,scope,access\nu1,A,VP of Sales,*,superuser\n", "line 2: unknown access 'superuser'"),
    ("user_id,name,role,scope\nu1,A,,*\n", "line 2: role must be printable text"),
    ("user_id,name,role,scope\nu1,A,Rep,*\nu2,B,Rep,region=\n", "line 3: scope column 'region' has an empty value"),
    ("user_id,name,role,scope\nu1,A,Rep,*\nu1,B,Rep,*\n", "line 3: user_id 'u1' appears twice"),
    ("user_id,name,role,scope,access\nu1,A,Rep,*\n", "line 2: expected 5 fields, got 4"),
    ("user_id,name,title,scope\n", "header is"),
    ("user_id,name,role,scope\nu1,A," + "x" * 500 + ",*\n", "line 2: role must be printable text of 1 to 120"),
])
def test_what_is_really_wrong_is_still_a_line_numbered_error(text, message):
    with pytest.raises(UsersFileError, match=message):
        parse_users(text, source="users.csv")


def test_the_directory_round_trips_through_csv_and_the_users_table():
    users = parse_users(TITLES)
    assert parse_users(users_to_csv(users)) == users
    con = duckdb.connect()
    migrate(con)
    store_users(con, users)
    assert load_users(con) == sorted(users, key=lambda u: u.user_id)


def test_an_older_warehouse_gives_its_admins_access_when_migrated():
    con = duckdb.connect()
    con.execute("CREATE TABLE schema_migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP)")
    before = [m for m in MIGRATIONS if m[0] < "008"]
    for name, sql in before:
        con.execute(sql)
        con.execute("INSERT INTO schema_migrations VALUES (?, now())", [name])
    con.execute("INSERT INTO users VALUES ('a', 'Ann', 'admin', '*'), ('v', 'Vic', 'vp_sales', '*')")
    assert "008_user_access" in migrate(con)
    assert [sorted(u.access) for u in load_users(con)] == [["admin"], []]


def test_an_unknown_title_is_its_own_peer_group():
    night = date(2026, 11, 20)
    fay, kim, vera = (User("fay", "Fay", "Head of Furniture", Scope.parse("category=Furniture")),
                      User("kim", "Kim", "head of furniture", Scope.parse("category=Furniture")),
                      User("vera", "Vera", "VP of Sales", Scope()))
    params = {"metric": "profit", "period": "last_month", "filters": {"category": "Furniture"}}
    history = [LoggedQuestion("fay", night - timedelta(days=d), "revenue_total", params) for d in (1, 8, 15, 22)]
    predictions = forecast_all([fay, kim, vera], history, [], night, ForecastConfig())
    kims = {p.intent_id: p for p in predictions if p.user_id == "kim"}
    assert fay.peer_group == kim.peer_group != vera.peer_group
    assert "revenue_total" in kims and any("ask this" in r for r in kims["revenue_total"].reasons)
    assert not any(p.intent_id == "revenue_total" for p in predictions if p.user_id == "vera")
    assert any(p.user_id == "kim" and p.intent_id == "revenue_vs_prev" for p in predictions)
