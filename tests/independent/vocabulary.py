"""Words sales leaders type, per metric, period, comparison and dimension (this check's own list)."""

from __future__ import annotations

# Noun phrases for a metric. A key with '|' is ambiguous: every listed reading is accepted.
METRIC_NOUNS: dict[str, list[str]] = {
    "revenue": ["sales", "revenue", "total sales", "bookings", "top line", "topline", "$ sales",
                "sales dollars", "turnover", "rev"],
    "profit": ["profit", "profits", "earnings", "bottom line", "net profit", "$ profit", "P&L"],
    "margin_pct": ["margin", "margin %", "gross margin %", "profit margin", "GM%", "margin rate",
                   "gm pct"],
    "orders": ["orders", "# of orders", "order count", "number of orders", "order volume",
               "no. of orders", "total orders"],
    "aov": ["AOV", "avg order value", "average order value", "average order size", "avg ticket",
            "average basket value", "avg $ per order"],
    "units": ["units", "units sold", "qty sold", "quantity", "unit volume", "items sold", "# units",
              "unit sales"],
    "units_per_order|aov": ["basket size", "avg basket size", "average basket"],
    "units_per_order": ["units per order", "items per order", "avg units per order"],
    "discount_avg|discount_weighted|discount_sales_weighted": [
        "discount rate", "avg discount", "discount %", "discount level", "average discount",
        "discounting"],
    "customers": ["active customers", "# of customers", "customer count", "unique customers",
                  "buying customers", "number of customers", "active accounts"],
    "new_customers|new_customers_global": ["new customers", "first-time buyers", "new logos",
                                           "new accounts", "first time customers"],
    "return_rate_orders|return_rate_sales|return_rate_lines": [
        "return rate", "returns %", "% returned", "rate of returns"],
}

# Whole-question clauses for a metric: {f} = filter phrase (may be empty), {p} = period phrase.
METRIC_CLAUSES: dict[str, list[str]] = {
    "revenue": ["how much did we sell {f} {p}", "how much did we book {f} {p}",
                "what did we do in sales {f} {p}", "how'd sales look {f} {p}",
                "what did we bring in {f} {p}", "how much revenue did we do {f} {p}"],
    "profit": ["how much did we make {f} {p}", "how much profit did we make {f} {p}",
               "what did we clear {f} {p}", "did we make money {f} {p}"],
    "orders": ["how many orders did we get {f} {p}", "how many orders came in {f} {p}",
               "how many orders {f} {p}"],
    "units": ["how many units did we sell {f} {p}", "how many items went out {f} {p}",
              "how many units {f} {p}"],
    "customers": ["how many customers bought {f} {p}", "how many customers ordered {f} {p}",
                  "how many accounts placed an order {f} {p}"],
    "new_customers|new_customers_global": ["how many new customers did we get {f} {p}",
                      "how many first-time buyers {f} {p}"],
}

PERIOD_WORDS: dict[str, list[str]] = {
    "yesterday": ["yesterday", "yday", "yest", "for yesterday"],
    "last_week": ["last week", "last wk", "the prior week", "previous week", "for last week",
                  "lw"],
    "week_to_date": ["this week", "wtd", "week to date", "so far this week"],
    "last_month": ["last month", "last mo", "previous month", "the prior month", "for last month"],
    "month_to_date": ["this month", "mtd", "month to date", "so far this month"],
    "last_quarter": ["last quarter", "last qtr", "prior quarter", "previous quarter",
                     "for last qtr"],
    "quarter_to_date": ["this quarter", "qtd", "quarter to date", "so far this qtr"],
    "year_to_date": ["ytd", "this year", "year to date", "so far this year", "so far in {year}"],
    "last_7_days": ["last 7 days", "past 7 days", "trailing 7 days", "last seven days"],
    "last_30_days": ["last 30 days", "past 30 days", "trailing 30 days", "L30D",
                     "last thirty days"],
    "last_year": ["last year", "in {last_year}", "for {last_year}", "full year {last_year}"],
    "named_month": ["in {month}", "for {month}", "in {mon}", "for {month} {year_of_month}",
                    "{month}"],
}

MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december"]
MONTH_SHORT = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sept", "oct", "nov", "dec"]

_PREV_DAY = ["vs the day before", "vs day before", "compared to the previous day"]
_PREV_WEEK = ["vs the week before", "vs prior week", "wow", "week over week",
              "compared with the week before"]
_PREV_MONTH = ["vs the month before", "vs prior month", "mom", "month over month",
               "compared to the month before"]
_PREV_QUARTER = ["vs the quarter before", "qoq", "vs prior quarter", "quarter over quarter"]
COMPARE_WORDS: dict[tuple[str, str], list[str]] = {
    ("prev", "yesterday"): _PREV_DAY,
    ("prev", "last_week"): _PREV_WEEK,
    ("prev", "week_to_date"): ["vs same point last week", "vs the same days last week"],
    ("prev", "last_7_days"): ["vs the 7 days before", "vs the previous 7 days"],
    ("prev", "last_30_days"): ["vs the 30 days before", "vs the previous 30 days"],
    ("prev", "last_month"): _PREV_MONTH,
    ("prev", "named_month"): _PREV_MONTH,
    ("prev", "month_to_date"): ["vs same point last month", "vs the same days last month"],
    ("prev", "last_quarter"): _PREV_QUARTER,
    ("prev", "quarter_to_date"): ["vs same point last quarter"],
    ("prev", "last_year"): ["vs the year before", "vs the prior year"],
    ("yoy", "*"): ["vs last year", "vs LY", "yoy", "compared to last year", "vs same time last year",
                   "year over year", "vs PY", "vs the same period last year", "versus last yr"],
}

# (plural, singular) words for a dimension (raw Superstore column).
DIMENSION_WORDS: dict[str, tuple[list[str], list[str]]] = {
    "State/Province": (["states", "states/provinces"], ["state"]),
    "City": (["cities", "towns"], ["city"]),
    "Category": (["categories", "product categories"], ["category"]),
    "Sub-Category": (["sub-categories", "subcategories", "sub cats"], ["sub-category", "subcat"]),
    "Product Name": (["products", "items", "SKUs"], ["product", "item"]),
    "Customer Name": (["customers", "accounts", "clients"], ["customer", "account"]),
    "Region": (["regions"], ["region"]),
    "Segment": (["segments", "customer segments"], ["segment"]),
    "Ship Mode": (["ship modes", "shipping methods"], ["ship mode", "shipping method"]),
}

NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 5: "five", 10: "ten"}

STATE_ABBREVIATIONS = {"California": "CA", "Texas": "TX", "New York": "NY", "Washington": "WA",
                       "Pennsylvania": "PA", "Illinois": "IL", "Ohio": "OH", "Florida": "FL",
                       "Michigan": "MI", "Virginia": "VA", "North Carolina": "NC",
                       "Georgia": "GA", "Arizona": "AZ", "Colorado": "CO", "Tennessee": "TN"}

# Questions this data cannot answer (no people, targets, pipeline, surveys, stock or web data).
UNANSWERABLE = [
    "whats our headcount {f}", "headcount by team", "NPS {p}", "what's our nps score {p}",
    "quota attainment {p}", "quota attainment by rep {p}", "who's hitting quota this quarter",
    "pipeline coverage for next quarter", "how much pipeline do we have {f}", "win rate {p}",
    "avg sales cycle length {p}", "CSAT {p}", "marketing spend {p}", "CAC by channel {p}",
    "which rep closed the most deals {p}", "commission payout {p}", "inventory on hand {f}",
    "stock levels for binders", "web conversion rate {p}", "budget vs actual {p}",
    "are we on track to hit target this quarter", "revenue per sales rep {p}",
    "how many calls did the team make {p}", "open opportunities by stage",
    "sales vs target {p}", "forecast for next month {f}", "churn risk accounts {f}",
    "quota vs actual for {f} {p}",
]

OPENERS = ["", "", "", "", "", "hey ", "quick q: ", "quick one - ", "can you pull ", "pls ",
           "need ", "show me ", "what was ", "what's ", "whats ", "gimme "]
CLOSERS = ["", "", "", "", "?", "?", "??", " pls", " thx", " asap", " please", " for the deck"]
