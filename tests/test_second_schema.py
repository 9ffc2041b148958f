"""Proof on a second schema: other column names, other metric and dimension words, a metric the
default layer lacks (a derived one), a layer written for it, and the whole product run on it.

The real Superstore orders are written out under a bookings company's own headers ("Booking
Ref", "Net Amount", "Territory", ...). Every command runs as a subprocess with
``OFFPEAK_SEMANTIC_LAYER`` pointing at the layer below, as a user would run it: ingest, a whole
night, the Ask matcher on the published snapshot, and the backtest. Served numbers are checked
against pandas on the renamed file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from tests.conftest import SUPERSTORE_ORDERS
from warehouse.storage.paths import REPO_ROOT, offpeak_paths
from warehouse.storage.snapshot import current_snapshot

pytestmark = pytest.mark.slow

NIGHT = date(2022, 11, 20)          # a Sunday; the morning after is Monday 21 November
HEADERS = {
    "Row ID": "Line No", "Order ID": "Booking Ref", "Order Date": "Booked On", "Ship Date": "Dispatched On",
    "Customer ID": "Account No", "Customer Name": "Account", "Segment": "Channel Group",
    "Country/Region": "Nation", "City": "Town", "State/Province": "Province", "Region": "Territory",
    "Product ID": "Item Code", "Category": "Family", "Sub-Category": "Range", "Product Name": "Item",
    "Sales": "Net Amount", "Quantity": "Units", "Discount": "Rebate", "Profit": "Contribution",
}
LAYER = """
version: 1
semantic_model:
  name: bookings
  source:
    time_column: order_date
    columns:
      line_id: [Line No]
      order_id: [Booking Ref]
      order_date: [Booked On]
      ship_date: [Dispatched On]
      customer_id: [Account No]
      customer_name: [Account]
      segment: [Channel Group]
      country: [Nation]
      region: [Territory]
      state: [Province]
      city: [Town]
      product_id: [Item Code]
      category: [Family]
      sub_category: [Range]
      product_name: [Item]
      quantity: [Units]
      sales: [Net Amount]
      discount: [Rebate]
      profit: [Contribution]
  measures:
    - {name: net_amount, agg: sum, column: sales}
    - {name: contribution, agg: sum, column: profit}
    - {name: booking_count, agg: count_distinct, column: order_id}
  dimensions:
    - {name: territory, column: region, plural: territories, synonyms: [territory, territories], values: true}
    - {name: province, column: state, plural: provinces, synonyms: [province, provinces], rank: true,
       values: true}
    - {name: family, column: category, plural: families, synonyms: [family, families], values: true}
    - {name: item, column: product_name, plural: items, synonyms: [item, items], rank: true, values: true}
  hierarchies:
    - [territory, province]
metrics:
  - {name: net_sales, label: Net sales, type: simple, measure: net_amount, unit: money, signal: true,
     synonyms: [net sales, net amount]}
  - {name: contribution, label: Contribution, type: simple, measure: contribution, unit: money,
     profitability: true, signal: true, synonyms: [contribution]}
  - {name: cost_of_sales, label: Cost of sales, type: derived, expr: net_sales - contribution, unit: money,
     direction: down, synonyms: [cost of sales, costs]}
  - {name: bookings, label: Bookings, type: simple, measure: booking_count, unit: count,
     synonyms: [bookings, number of bookings]}
questions:
  shapes: [total, vs_previous, vs_last_year, top_n, bottom_n, breakdown, share, drivers]
  default_metric: net_sales
  default_breakdown: family
  drivers: [family, territory]
  signal_drills: [family]
  role_defaults:
    unknown_title:
      - {intent: net_sales_vs_prev, period: last_week, probability: 0.06}
"""
QUESTIONS = ("cost of sales last month", "net sales last week vs the week before",
             "top 5 items by net sales last month", "net sales by family last month")


def _offpeak(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    if not SUPERSTORE_ORDERS.exists():
        pytest.skip(f"{SUPERSTORE_ORDERS} not found")
    root = tmp_path_factory.mktemp("bookings")
    layer = root / "bookings.yaml"
    layer.write_text(LAYER, encoding="utf-8")
    raw = pd.read_csv(SUPERSTORE_ORDERS, dtype=str)
    lines = raw.rename(columns=HEADERS)[list(HEADERS.values())]
    lines.to_csv(root / "bookings.csv", index=False)
    users = root / "users.csv"
    users.write_text("user_id,name,role,scope\nava,Ava,Head of Commercial,*\n"
                     "tom,Tom,Territory Lead,territory=West\n", encoding="utf-8")
    asked = [(user, f"{NIGHT - timedelta(days=d)}T08:{10 + i:02d}:00", q)
             for d in range(1, 22) for user in ("ava", "tom") for i, q in enumerate(QUESTIONS)]
    log = root / "log.csv"
    pd.DataFrame(asked, columns=["user_id", "asked_at", "question"]).to_csv(log, index=False)
    env = {**os.environ, "OFFPEAK_SEMANTIC_LAYER": str(layer), "OFFPEAK_HOME": str(root / "home"),
           "HF_HUB_OFFLINE": "1", "OFFPEAK_AUTOMATION": "off"}
    paths = offpeak_paths(root / "home").ensure()
    (paths.users_csv).write_text(users.read_text(encoding="utf-8"), encoding="utf-8")
    (paths.question_log_dir / "log.csv").write_text(log.read_text(encoding="utf-8"), encoding="utf-8")
    _offpeak(env, "ingest", str(root / "bookings.csv"))
    _offpeak(env, "night", "--night", NIGHT.isoformat())
    frame = lines.assign(day=pd.to_datetime(lines["Booked On"]).dt.date,
                         sales=lines["Net Amount"].astype(float), profit=lines["Contribution"].astype(float))
    return {"root": root, "env": env, "paths": paths, "log": log, "users": users, "frame": frame}


def test_the_night_answers_in_the_layers_own_metrics(company):
    snap = duckdb.connect(str(current_snapshot(company["paths"].snapshots_dir)), read_only=True)
    try:
        answers = snap.execute("SELECT intent_id, params, key_value, headline, scope_key FROM answers").fetchall()
    finally:
        snap.close()
    intents = {a[0] for a in answers}
    assert {"cost_of_sales_total", "net_sales_vs_prev", "top_items", "breakdown"} <= intents
    assert not any(i.startswith(("revenue", "profit_", "top_products")) for i in intents)
    frame = company["frame"]
    november = frame[(frame.day >= date(2022, 10, 1)) & (frame.day <= date(2022, 10, 31))]
    costs = [(a[2], a[4]) for a in answers if a[0] == "cost_of_sales_total"
             and json.loads(a[1])["period"] == "last_month"]
    assert costs, "the derived metric was answered"
    for value, scope in costs:
        part = november if scope == "*" else november[november["Territory"] == "West"]
        assert value == pytest.approx(part.sales.sum() - part.profit.sum(), abs=0.01)


ASK_SCRIPT = """
import sys, json
from dashboard import data
from warehouse.storage.paths import offpeak_paths
from warehouse.storage.snapshot import current_snapshot
path = str(current_snapshot(offpeak_paths().snapshots_dir))
user = next(u for u in data.users(path) if u.user_id == "tom")
out = {}
for q in sys.argv[1:]:
    o = data.ask(path, user, q)
    out[q] = {"hit": o.hit, "live": o.live_card is not None, "why": o.queued_reason or "", "understood": o.understood}
print(json.dumps(out))
"""


def _ask(env: dict[str, str], *questions: str) -> dict[str, dict]:
    done = subprocess.run([sys.executable, "-c", ASK_SCRIPT, *questions], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_ask_serves_the_layers_words_and_refuses_the_default_layers(company):
    asked = ["costs last month", "revenue last month", "net sales in Texas last month",
             "net sales by family last month"]
    out = _ask(company["env"], *asked)
    assert out["costs last month"]["hit"] or out["costs last month"]["live"]
    assert out["net sales by family last month"]["hit"]
    revenue = out["revenue last month"]          # a word of the default layer, not of this one
    assert not revenue["hit"] and not revenue["live"] and "revenue" in revenue["why"]
    texas = out["net sales in Texas last month"]  # a province of another territory (the hierarchy)
    assert not texas["hit"] and not texas["live"] and "outside your scope" in texas["why"]


def test_a_dashboard_on_another_layer_matches_nothing(company):
    """The snapshot records its layer: a dashboard started without the night's layer refuses to
    read its answers with other words."""
    env = {k: v for k, v in company["env"].items() if k != "OFFPEAK_SEMANTIC_LAYER"}
    out = _ask(env, "net sales by family last month")["net sales by family last month"]
    assert not out["hit"] and not out["live"] and "semantic layer bookings@" in out["why"]


def test_the_backtest_runs_on_the_second_schema(company):
    out = company["root"] / "backtest"
    _offpeak(company["env"], "backtest", "--orders", str(company["root"] / "bookings.csv"),
             "--users", str(company["users"]), "--log", str(company["log"]),
             "--from", (NIGHT - timedelta(days=6)).isoformat(), "--to", NIGHT.isoformat(), "--out", str(out))
    summary = json.loads((out / "summary.json").read_text())
    questions = pd.read_csv(out / "questions.csv")
    days = pd.to_datetime(pd.read_csv(company["log"])["asked_at"]).dt.date
    assert len(questions) == ((days >= NIGHT - timedelta(days=6)) & (days <= NIGHT)).sum() > 0
    assert summary["hits"] > 0
    served = questions[questions["hit"].astype(str) == "True"]
    assert served["answer_text"].str.contains("Net sales|Cost of sales|Items|items|families").all()
