"""Deterministic, Superstore-like demo sales data and users (no network, vectorised numpy).

``generate_orders`` draws order lines with a weekly pattern (weekdays busier), seasonality
(November/December peak), growth year over year, and three planted anomalies in the most recent
weeks that the nightly signals should find: see :func:`planted_anomalies`.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from warehouse.storage.canonical import CANONICAL_COLUMNS
from warehouse.storage.paths import OffpeakPaths

# region -> state -> (relative weight, cities)
GEOGRAPHY: dict[str, dict[str, tuple[float, tuple[str, ...]]]] = {
    "West": {
        "California": (12.0, ("Los Angeles", "San Francisco", "San Diego", "Sacramento", "San Jose")),
        "Washington": (4.0, ("Seattle", "Spokane", "Tacoma")),
        "Oregon": (2.0, ("Portland", "Salem", "Eugene")),
        "Colorado": (2.0, ("Denver", "Colorado Springs", "Aurora")),
        "Arizona": (2.5, ("Phoenix", "Tucson", "Mesa")),
        "Utah": (1.0, ("Salt Lake City", "Provo")),
        "Nevada": (1.0, ("Las Vegas", "Reno")),
        "New Mexico": (0.7, ("Albuquerque", "Santa Fe")),
        "Idaho": (0.5, ("Boise",)),
    },
    "East": {
        "New York": (8.0, ("New York City", "Buffalo", "Rochester", "Albany")),
        "Pennsylvania": (4.0, ("Philadelphia", "Pittsburgh", "Allentown")),
        "Ohio": (3.0, ("Columbus", "Cleveland", "Cincinnati", "Toledo")),
        "New Jersey": (2.0, ("Newark", "Jersey City", "Trenton")),
        "Massachusetts": (2.0, ("Boston", "Worcester", "Springfield")),
        "Maryland": (1.5, ("Baltimore", "Annapolis")),
        "Connecticut": (1.0, ("Hartford", "New Haven")),
        "Delaware": (0.5, ("Wilmington", "Dover")),
        "Rhode Island": (0.5, ("Providence",)),
        "New Hampshire": (0.4, ("Manchester",)),
    },
    "Central": {
        "Texas": (9.0, ("Houston", "Dallas", "San Antonio", "Austin", "Fort Worth")),
        "Illinois": (4.0, ("Chicago", "Naperville", "Peoria")),
        "Michigan": (2.5, ("Detroit", "Grand Rapids", "Lansing")),
        "Minnesota": (1.5, ("Minneapolis", "Saint Paul")),
        "Wisconsin": (1.5, ("Milwaukee", "Madison")),
        "Indiana": (1.5, ("Indianapolis", "Fort Wayne")),
        "Missouri": (1.2, ("Kansas City", "St. Louis")),
        "Oklahoma": (0.8, ("Oklahoma City", "Tulsa")),
        "Iowa": (0.6, ("Des Moines",)),
        "Nebraska": (0.4, ("Omaha", "Lincoln")),
    },
    "South": {
        "Florida": (5.0, ("Miami", "Jacksonville", "Tampa", "Orlando")),
        "Georgia": (2.5, ("Atlanta", "Savannah", "Athens")),
        "North Carolina": (2.5, ("Charlotte", "Raleigh", "Greensboro")),
        "Virginia": (2.0, ("Richmond", "Virginia Beach", "Arlington")),
        "Tennessee": (2.0, ("Nashville", "Memphis", "Knoxville")),
        "Kentucky": (1.0, ("Louisville", "Lexington")),
        "Alabama": (1.0, ("Birmingham", "Montgomery", "Huntsville")),
        "South Carolina": (1.0, ("Charleston", "Columbia")),
        "Louisiana": (1.0, ("New Orleans", "Baton Rouge")),
        "Arkansas": (0.5, ("Little Rock",)),
    },
}
REGIONS: tuple[str, ...] = tuple(GEOGRAPHY)
_STATE_NAMES: tuple[str, ...] = tuple(state for states in GEOGRAPHY.values() for state in states)
SEGMENTS: tuple[str, ...] = ("Consumer", "Corporate", "Home Office")
SEGMENT_SHARES = (0.52, 0.30, 0.18)
CHANNELS: tuple[str, ...] = ("Online", "Direct", "Partner")
CHANNEL_SHARES_BY_SEGMENT = ((0.70, 0.15, 0.15), (0.30, 0.50, 0.20), (0.60, 0.25, 0.15))
# Ship mode by days to ship: same day, up to 2 days, up to 4, longer.
SHIP_MODES: tuple[str, ...] = ("Same Day", "First Class", "Second Class", "Standard Class")
SHIP_MODE_DAYS = (0, 2, 4, 7)


@dataclass(frozen=True)
class SubCategory:
    """One of Superstore's 17 sub-categories with its demo economics."""

    category: str
    name: str
    code: str
    share: float  # share of order lines, percent
    unit_price: float  # median list price per unit
    margin: float  # margin before discount
    nouns: tuple[str, ...]


SUB_CATEGORIES: tuple[SubCategory, ...] = (
    SubCategory("Furniture", "Bookcases", "BO", 2.3, 130, 0.18,
                ("Bookcase", "Open Shelf Bookcase", "Barrister Bookcase")),
    SubCategory("Furniture", "Chairs", "CH", 6.2, 140, 0.22,
                ("Task Chair", "Executive Chair", "Stacking Chair", "Mesh Chair")),
    SubCategory("Furniture", "Furnishings", "FU", 9.6, 25, 0.30,
                ("Desk Lamp", "Wall Clock", "Photo Frame", "Chair Mat")),
    SubCategory("Furniture", "Tables", "TA", 3.2, 170, 0.20,
                ("Conference Table", "Training Table", "Folding Table")),
    SubCategory("Office Supplies", "Appliances", "AP", 4.7, 60, 0.30,
                ("Microwave", "Surge Protector", "Space Heater", "Air Purifier")),
    SubCategory("Office Supplies", "Art", "AR", 8.0, 9, 0.30,
                ("Pencils", "Markers", "Highlighters", "Sketch Pad")),
    SubCategory("Office Supplies", "Binders", "BI", 15.2, 35, 0.42,
                ("Ring Binder", "Presentation Binder", "Binding Combs")),
    SubCategory("Office Supplies", "Envelopes", "EN", 2.5, 17, 0.45,
                ("Business Envelopes", "Catalog Envelopes")),
    SubCategory("Office Supplies", "Fasteners", "FA", 2.2, 4, 0.35,
                ("Paper Clips", "Binder Clips", "Staples", "Push Pins")),
    SubCategory("Office Supplies", "Labels", "LA", 3.6, 9, 0.46,
                ("Address Labels", "File Folder Labels")),
    SubCategory("Office Supplies", "Paper", "PA", 13.7, 15, 0.45,
                ("Copy Paper", "Message Book", "Cardstock", "Easel Pad")),
    SubCategory("Office Supplies", "Storage", "ST", 8.5, 70, 0.22,
                ("File Cart", "Storage Box", "Shelving Unit")),
    SubCategory("Office Supplies", "Supplies", "SU", 1.9, 30, 0.12,
                ("Scissors", "Letter Opener", "Paper Trimmer")),
    SubCategory("Technology", "Accessories", "AC", 7.8, 57, 0.30,
                ("Wireless Mouse", "Keyboard", "Flash Drive", "Headset")),
    SubCategory("Technology", "Copiers", "CO", 0.7, 650, 0.42, ("Laser Copier", "Color Copier")),
    SubCategory("Technology", "Machines", "MA", 1.2, 430, 0.25,
                ("Label Printer", "Shredder", "Projector")),
    SubCategory("Technology", "Phones", "PH", 8.9, 98, 0.25,
                ("Smartphone", "Conference Phone", "Cordless Phone")),
)
CATEGORIES: tuple[str, ...] = ("Furniture", "Office Supplies", "Technology")
_CATEGORY_CODES = {"Furniture": "FUR", "Office Supplies": "OFF", "Technology": "TEC"}
_BRANDS = ("Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Proseware", "Wingtip",
           "Adatum", "Lucerne", "Alpine", "Summit", "Bluebird", "Redwood", "Harbor", "Keystone")
_FIRST_NAMES = (
    "Aaron", "Abigail", "Adrian", "Alice", "Amir", "Ana", "Andre", "Beatriz", "Ben", "Carla",
    "Chen", "Chloe", "Daniel", "Deepa", "Diego", "Elena", "Emeka", "Emma", "Farah", "Felix",
    "Grace", "Hana", "Hugo", "Ines", "Isaac", "Jamal", "Jane", "Jonas", "Julia", "Kenji", "Laila",
    "Leo", "Lina", "Marco", "Maria", "Mei", "Nadia", "Noah", "Olga", "Omar", "Paula", "Priya",
    "Rafael", "Rosa", "Sam", "Sara", "Sofia", "Tariq", "Tom", "Uma", "Victor", "Wen", "Yara",
    "Yusuf", "Zoe",
)
_LAST_NAMES = (
    "Adams", "Alvarez", "Baker", "Banerjee", "Brooks", "Campbell", "Chen", "Costa", "Diaz",
    "Dubois", "Edwards", "Evans", "Fischer", "Foster", "Garcia", "Gupta", "Hansen", "Hughes",
    "Ito", "Jensen", "Johnson", "Kim", "Kowalski", "Lee", "Lopez", "Martin", "Meyer", "Morales",
    "Nakamura", "Nguyen", "Novak", "Okafor", "Olsen", "Patel", "Perez", "Quinn", "Reyes",
    "Rossi", "Russo", "Santos", "Schmidt", "Silva", "Singh", "Sullivan", "Tanaka", "Taylor",
    "Torres", "Walker", "Wang", "Weber", "Wilson", "Wright", "Young", "Zhang",
)
_WEEKDAY_FACTOR = np.array([1.10, 1.15, 1.15, 1.10, 1.00, 0.45, 0.35])  # Mon..Sun
_MONTH_FACTOR = np.array([0.75, 0.75, 0.95, 0.90, 0.95, 0.95, 0.90, 0.95, 1.15, 1.05, 1.40, 1.55])
_ANNUAL_GROWTH = 0.12
_DISCOUNT_LEVELS = np.array([0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
_DISCOUNT_LEVEL_SHARES = np.array([0.15, 0.05, 0.45, 0.08, 0.09, 0.06, 0.04, 0.05, 0.03])
_DISCOUNT_CHANCE_BY_REGION = {"West": 0.40, "East": 0.45, "Central": 0.55, "South": 0.45}
_DISCOUNT_HEAVY_SUB_CATEGORIES = ("Binders", "Tables", "Bookcases", "Machines", "Chairs")
DEMO_ORDERS_GLOB = "demo-orders-*.parquet"
DEMO_RETURNS_FILE = "demo-returns.csv"


@dataclass(frozen=True)
class PlantedAnomaly:
    """A change planted in the demo data: where (filters), when (start..end) and what."""

    name: str
    metric: str
    filters: dict[str, str]
    start: date
    end: date
    description: str


def last_week_window(end_date: date) -> tuple[date, date]:
    """Monday of the last complete Mon-Sun week up to ``end_date``, through ``end_date``."""
    last_sunday = end_date - timedelta(days=(end_date.weekday() + 1) % 7)
    return last_sunday - timedelta(days=6), end_date


def last_month_window(end_date: date) -> tuple[date, date]:
    """The first day of the last complete calendar month up to ``end_date``, through ``end_date``."""
    month_is_complete = end_date.day == calendar.monthrange(end_date.year, end_date.month)[1]
    first = end_date.replace(day=1)
    if not month_is_complete:
        first = (first - timedelta(days=1)).replace(day=1)
    return first, end_date


def planted_anomalies(end_date: date) -> list[PlantedAnomaly]:
    """The anomalies :func:`generate_orders` plants for this ``end_date`` (same for every seed)."""
    week, month = last_week_window(end_date), last_month_window(end_date)
    return [
        PlantedAnomaly("spike", "sales", {"region": "West", "category": "Technology"}, *week,
                       "West Technology sales about 3x their usual level last week (bulk orders)"),
        PlantedAnomaly("drop", "sales", {"sub_category": "Chairs"}, *month,
                       "Chairs sales down about 60% last month"),
        PlantedAnomaly("margin_collapse", "profit_margin", {"state": "Texas"}, *month,
                       "Texas profit margin falls below zero last month (costs up 35 points of sales)"),
    ]


def generate_orders(n_lines: int, end_date: date, years: float = 3, seed: int = 7) -> pd.DataFrame:
    """``n_lines`` Superstore-like order lines in canonical columns, ending on ``end_date``.

    Deterministic for a seed. ``order_id`` is a string column, the other text columns are pandas
    categoricals (compact for 10 M lines); dates are ``datetime64``. The planted anomalies are
    listed by :func:`planted_anomalies`.
    """
    if n_lines < 1:
        raise ValueError("n_lines must be at least 1")
    rng = np.random.default_rng(seed)
    products = _products(np.random.default_rng([seed, 1]))
    customers = _customers(rng, n_customers=int(np.clip(n_lines // 12, 50, 60_000)))
    orders = _orders(rng, n_lines, end_date, years, customers)
    order_of_line = np.repeat(np.arange(len(orders.date)), orders.size)
    lines = _lines(rng, order_of_line, orders, customers, products, end_date)
    return _assemble(order_of_line, orders, customers, products, lines)


def state_table() -> pd.DataFrame:
    """One row per state: region, state, weight, cities."""
    rows = [(region, state, weight, cities)
            for region, states in GEOGRAPHY.items() for state, (weight, cities) in states.items()]
    return pd.DataFrame(rows, columns=["region", "state", "weight", "cities"])


def person_names(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` synthetic (first, last) names; unique while n is below the number of combinations."""
    combos = len(_FIRST_NAMES) * len(_LAST_NAMES)
    picks = rng.permutation(combos)[np.arange(n) % combos]
    return np.array(_FIRST_NAMES)[picks // len(_LAST_NAMES)], np.array(_LAST_NAMES)[picks % len(_LAST_NAMES)]


def full_names(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """"First Last" for each pair."""
    return np.char.add(np.char.add(first, " "), last)


def _products(rng: np.random.Generator) -> pd.DataFrame:
    """A fixed catalogue of ~1,800 products over the 17 sub-categories."""
    frames = []
    for k, sub in enumerate(SUB_CATEGORIES):
        n = max(12, int(sub.share * 18))
        brand = rng.choice(np.array(_BRANDS), n)
        noun = rng.choice(np.array(sub.nouns), n)
        model = np.char.add(rng.choice(np.array(list("ABCDEFGHKLMNPRSTVX")), n),
                            rng.integers(100, 1000, n).astype(str))
        frames.append(pd.DataFrame({
            "sub_index": k,
            "product_name": np.char.add(np.char.add(np.char.add(brand, " "), np.char.add(noun, " ")), model),
            "unit_price": np.round(sub.unit_price * rng.lognormal(0, 0.55, n), 2).clip(0.99),
            "popularity": rng.lognormal(0, 0.8, n),
        }))
    products = pd.concat(frames, ignore_index=True)
    products = products.drop_duplicates("product_name", ignore_index=True)
    subs = [SUB_CATEGORIES[k] for k in products.sub_index]
    codes = [f"{_CATEGORY_CODES[sub.category]}-{sub.code}" for sub in subs]
    serials = 10_000_000 + rng.choice(9_000, len(products), replace=False)
    products["product_id"] = [f"{c}-{s}" for c, s in zip(codes, serials)]
    return products


def _customers(rng: np.random.Generator, n_customers: int) -> pd.DataFrame:
    """Customers with a home state/city, a segment, a sales rep and an ordering frequency."""
    states = state_table()
    state_index = rng.choice(len(states), n_customers, p=(states.weight / states.weight.sum()).to_numpy())
    first, last = person_names(rng, n_customers)
    initials = np.array([f"{a[0]}{b[0]}-" for a, b in zip(first, last)])
    n_cities = states.cities.map(len).to_numpy()
    city_offset = np.concatenate([[0], np.cumsum(n_cities)[:-1]])
    all_cities = np.array([c for cities in states.cities for c in cities])
    city_index = city_offset[state_index] + (rng.random(n_customers) * n_cities[state_index]).astype(int)
    reps_per_state = np.maximum(1, np.ceil(states.weight.to_numpy() / 2)).astype(int)
    rep_offset = np.concatenate([[0], np.cumsum(reps_per_state)[:-1]])
    rep_index = rep_offset[state_index] + (rng.random(n_customers) * reps_per_state[state_index]).astype(int)
    rep_names = full_names(*person_names(rng, int(reps_per_state.sum())))
    return pd.DataFrame({
        "customer_id": np.char.add(initials, (10_000 + np.arange(n_customers)).astype(str)),
        "customer_name": full_names(first, last),
        "segment": rng.choice(len(SEGMENTS), n_customers, p=SEGMENT_SHARES),
        "state_index": state_index,
        "region_index": np.array([REGIONS.index(r) for r in states.region])[state_index],
        "region": states.region.to_numpy()[state_index],
        "state": states.state.to_numpy()[state_index],
        "city": all_cities[city_index],
        "rep_id": [f"R{i + 1:03d}" for i in rep_index],
        "rep_name": rep_names[rep_index],
        "frequency": rng.lognormal(0, 0.9, n_customers),
    })


def _day_weights(start: date, n_days: int) -> np.ndarray:
    """Relative order volume per day: weekday pattern x month seasonality x yearly growth."""
    days = np.datetime64(start, "D") + np.arange(n_days)
    weekday = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday
    month = days.astype("datetime64[M]").astype("int64") % 12
    growth = (1 + _ANNUAL_GROWTH) ** (np.arange(n_days) / 365.25)
    weights = _WEEKDAY_FACTOR[weekday] * _MONTH_FACTOR[month] * growth
    return weights / weights.sum()


@dataclass(frozen=True)
class _Orders:
    """Order headers as parallel arrays."""

    date: np.ndarray  # datetime64[D], sorted
    size: np.ndarray  # lines per order
    customer: np.ndarray  # index into the customers frame
    channel: np.ndarray  # index into CHANNELS


def _orders(rng: np.random.Generator, n_lines: int, end_date: date, years: float,
            customers: pd.DataFrame) -> _Orders:
    """Order headers (day index, size, customer, channel) whose sizes add up to ``n_lines``."""
    sizes = np.minimum(1 + rng.poisson(1.4, int(n_lines / 2.4 * 1.1) + 10), 10)
    while sizes.sum() < n_lines:
        sizes = np.concatenate([sizes, np.minimum(1 + rng.poisson(1.4, n_lines // 10 + 10), 10)])
    n_orders = int(np.searchsorted(np.cumsum(sizes), n_lines)) + 1
    sizes = sizes[:n_orders]
    sizes[-1] -= sizes.sum() - n_lines
    n_days = max(1, round(years * 365.25))
    start = end_date - timedelta(days=n_days - 1)
    day = np.sort(rng.choice(n_days, n_orders, p=_day_weights(start, n_days)))
    freq = customers.frequency.to_numpy()
    customer = rng.choice(len(customers), n_orders, p=freq / freq.sum())
    segment = customers.segment.to_numpy()[customer]
    channel_cdf = np.cumsum(np.array(CHANNEL_SHARES_BY_SEGMENT), axis=1)[segment]
    channel = (rng.random(n_orders)[:, None] > channel_cdf).sum(axis=1)
    return _Orders(np.datetime64(start, "D") + day, sizes, customer, channel)


def _lines(rng: np.random.Generator, order_of_line: np.ndarray, orders: _Orders,
           customers: pd.DataFrame, products: pd.DataFrame, end_date: date) -> dict[str, np.ndarray]:
    """Per line: product, quantity, discount, sales, profit, ship days (anomalies applied)."""
    n = len(order_of_line)
    dates = orders.date[order_of_line]
    customer = orders.customer[order_of_line]
    region = customers.region_index.to_numpy()[customer]
    state = customers.state_index.to_numpy()[customer]
    p = products.popularity.to_numpy() * np.array([SUB_CATEGORIES[k].share for k in products.sub_index])
    product = rng.choice(len(products), n, p=p / p.sum())
    sub = products.sub_index.to_numpy()
    spike, drop, collapse = planted_anomalies(end_date)

    redraw = _planted(drop, dates, region, state, sub[product]) & (rng.random(n) < 0.6)
    others = np.flatnonzero(~_planted(drop, None, None, None, sub))
    p_others = p[others] / p[others].sum()
    product[redraw] = others[rng.choice(len(others), int(redraw.sum()), p=p_others)]
    sub_of_line = sub[product]

    quantity = np.minimum(1 + rng.poisson(2.6, n), 14)
    quantity = np.where(_planted(spike, dates, region, state, sub_of_line), quantity * 3, quantity)

    chance = np.array([_DISCOUNT_CHANCE_BY_REGION[r] for r in REGIONS])[region]
    heavy = np.isin(sub_of_line, [_sub_index(s) for s in _DISCOUNT_HEAVY_SUB_CATEGORIES])
    discounted = rng.random(n) < chance + 0.15 * heavy
    level = rng.choice(_DISCOUNT_LEVELS, n, p=_DISCOUNT_LEVEL_SHARES / _DISCOUNT_LEVEL_SHARES.sum())
    discount = np.where(discounted, level, 0.0)

    margin = np.array([s.margin for s in SUB_CATEGORIES])[sub_of_line]
    cost_ratio = (1 - margin) * rng.normal(1, 0.06, n)
    collapsed = _planted(collapse, dates, region, state, sub_of_line)
    cost_ratio = np.where(collapsed, cost_ratio + 0.35, cost_ratio)
    gross = quantity * products.unit_price.to_numpy()[product]
    return {
        "dates": dates,
        "product": product,
        "quantity": quantity.astype(float),
        "discount": discount,
        "sales": np.round(gross * (1 - discount), 2),
        "profit": np.round(gross * ((1 - discount) - cost_ratio), 2),
        "ship_days": rng.choice(8, n, p=[0.05, 0.08, 0.15, 0.2, 0.22, 0.15, 0.1, 0.05]),
    }


def _sub_index(name: str) -> int:
    return next(k for k, s in enumerate(SUB_CATEGORIES) if s.name == name)


def _planted(anomaly: PlantedAnomaly, dates: np.ndarray | None, region: np.ndarray | None,
             state: np.ndarray | None, sub: np.ndarray) -> np.ndarray:
    """Which lines the anomaly touches (by window and filters); ``None`` arrays are not checked."""
    mask = np.ones(len(sub), dtype=bool)
    if dates is not None:
        mask &= (dates >= np.datetime64(anomaly.start, "D")) & (dates <= np.datetime64(anomaly.end, "D"))
    for column, value in anomaly.filters.items():
        if column == "region" and region is not None:
            mask &= region == REGIONS.index(value)
        elif column == "state" and state is not None:
            mask &= state == _STATE_NAMES.index(value)
        elif column == "category":
            mask &= np.isin(sub, [k for k, s in enumerate(SUB_CATEGORIES) if s.category == value])
        elif column == "sub_category":
            mask &= sub == _sub_index(value)
    return mask


def _categorical(values: np.ndarray, index: np.ndarray) -> pd.Categorical:
    """``values[index]`` as a categorical without materialising one string per line."""
    codes, uniques = pd.factorize(values, sort=True)
    return pd.Categorical.from_codes(codes[index], categories=uniques)


def _assemble(order_of_line: np.ndarray, orders: _Orders, customers: pd.DataFrame,
              products: pd.DataFrame, lines: dict[str, np.ndarray]) -> pd.DataFrame:
    """The canonical frame from per-order, per-customer, per-product and per-line arrays."""
    years = pa.array(orders.date.astype("datetime64[Y]").astype(np.int64) + 1970).cast(pa.string())
    serials = pa.array(100_000 + np.arange(len(orders.date))).cast(pa.string())
    order_ids = pc.binary_join_element_wise("US", years, serials, "-")
    customer = orders.customer[order_of_line]
    product = lines["product"]
    sub = np.array([(s.category, s.name) for s in SUB_CATEGORIES])[products.sub_index.to_numpy()]
    columns = {
        "order_id": pd.Series(order_ids.take(pa.array(order_of_line)), dtype="str"),
        "order_date": lines["dates"],
        "ship_date": lines["dates"] + lines["ship_days"].astype("timedelta64[D]"),
        "customer_id": _categorical(customers.customer_id.to_numpy(), customer),
        "customer_name": _categorical(customers.customer_name.to_numpy(), customer),
        "segment": _categorical(np.array(SEGMENTS)[customers.segment.to_numpy()], customer),
        "country": pd.Categorical.from_codes(np.zeros(len(product), dtype=np.int8), ["United States"]),
        "region": _categorical(customers.region.to_numpy(), customer),
        "state": _categorical(customers.state.to_numpy(), customer),
        "city": _categorical(customers.city.to_numpy(), customer),
        "product_id": _categorical(products.product_id.to_numpy(), product),
        "category": _categorical(sub[:, 0], product),
        "sub_category": _categorical(sub[:, 1], product),
        "product_name": _categorical(products.product_name.to_numpy(), product),
        "quantity": lines["quantity"],
        "sales": lines["sales"],
        "discount": lines["discount"],
        "profit": lines["profit"],
        "rep_id": _categorical(customers.rep_id.to_numpy(), customer),
        "rep_name": _categorical(customers.rep_name.to_numpy(), customer),
        "channel": pd.Categorical.from_codes(orders.channel[order_of_line], CHANNELS),
        "ship_mode": pd.Categorical.from_codes(np.searchsorted(SHIP_MODE_DAYS, lines["ship_days"]).astype(np.int8),
                                               SHIP_MODES),
    }
    return pd.DataFrame(columns)[list(CANONICAL_COLUMNS)]


def write_orders(paths: OffpeakPaths, n_lines: int, end_date: date, years: float = 3, seed: int = 7,
                 chunk_lines: int = 1_000_000) -> list[Path]:
    """Write demo orders as Parquet chunks of at most ``chunk_lines`` lines (whole orders) plus a
    returns CSV into ``paths.drop_dir``; return the files written.

    Earlier demo files in the drop folder are replaced, so it holds one demo data set.
    """
    drop = paths.drop_dir
    drop.mkdir(parents=True, exist_ok=True)
    for old in [*drop.glob(DEMO_ORDERS_GLOB), drop / DEMO_RETURNS_FILE]:
        old.unlink(missing_ok=True)
    frame = generate_orders(n_lines, end_date, years, seed)
    written = []
    for k, (a, b) in enumerate(_chunk_bounds(frame.order_id, chunk_lines), start=1):
        path = drop / DEMO_ORDERS_GLOB.replace("*", f"{k:04d}")
        pq.write_table(_to_arrow(frame.iloc[a:b]), path, compression="zstd")
        written.append(path)
    written.append(_write_returns(frame, drop / DEMO_RETURNS_FILE, end_date, seed))
    return written


def _chunk_bounds(order_id: pd.Series, chunk_lines: int) -> list[tuple[int, int]]:
    """Line ranges of at most ``chunk_lines`` that never split an order (its lines are adjacent)."""
    starts = np.flatnonzero((order_id != order_id.shift()).to_numpy())
    bounds, a, n = [], 0, len(order_id)
    while a < n:
        limit = a + chunk_lines
        b = n if limit >= n else int(starts[np.searchsorted(starts, limit, side="right") - 1])
        b = b if b > a else limit  # a single order longer than a chunk
        bounds.append((a, b))
        a = b
    return bounds


def _to_arrow(chunk: pd.DataFrame) -> pa.Table:
    """A chunk as an Arrow table: dates as date32, text as (dictionary-encoded) strings."""
    table = pa.Table.from_pandas(chunk, preserve_index=False)
    fields = [f.with_type(pa.date32()) if pa.types.is_timestamp(f.type)
              else f.with_type(pa.string()) if pa.types.is_large_string(f.type) else f
              for f in table.schema]
    return table.cast(pa.schema(fields))


def _write_returns(frame: pd.DataFrame, path: Path, end_date: date, seed: int) -> Path:
    """About 5% of the orders older than two weeks, as a canonical ``order_id`` CSV."""
    cutoff = np.datetime64(end_date - timedelta(days=14))
    orders = frame.loc[frame.order_date <= cutoff, "order_id"].drop_duplicates().to_numpy()
    returned = np.sort(np.random.default_rng([seed, 2]).choice(
        orders, int(len(orders) * 0.05), replace=False)) if len(orders) else orders
    pd.DataFrame({"order_id": returned}).to_csv(path, index=False)
    return path
