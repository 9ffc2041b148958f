"""The users of the independent log: job titles, scopes, and what each may ask about."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

# Product scope columns -> raw Superstore columns (the scope syntax is `col=value;col=value`).
SCOPE_COLUMNS = {"region": "Region", "category": "Category", "segment": "Segment",
                 "state": "State/Province"}


@dataclass(frozen=True)
class Persona:
    """One user: a job title mapped onto one of the product's roles, and a scope."""

    user_id: str
    name: str
    title: str
    role: str
    scope: str

    def scope_filters(self) -> dict[str, str]:
        """The scope as raw Superstore column filters."""
        if self.scope == "*":
            return {}
        pairs = (part.split("=", 1) for part in self.scope.split(";"))
        return {SCOPE_COLUMNS[k]: v for k, v in pairs}


PERSONAS = [
    Persona("u01", "Margaret Okafor", "VP of Sales", "vp_sales", "*"),
    Persona("u02", "Daniel Reyes", "Chief Revenue Officer", "vp_sales", "*"),
    Persona("u03", "Priya Raman", "Regional Sales Director - West", "regional_manager", "region=West"),
    Persona("u04", "Tom Becker", "Regional Sales Director - East", "regional_manager", "region=East"),
    Persona("u05", "Alicia Moreno", "Area VP, Central", "regional_manager", "region=Central"),
    Persona("u06", "Kwame Asante", "Regional Sales Manager - South", "regional_manager",
            "region=South"),
    Persona("u07", "Helen Fischer", "Head of Furniture", "category_manager", "category=Furniture"),
    Persona("u08", "Ravi Menon", "Technology Category Lead", "category_manager",
            "category=Technology"),
    Persona("u09", "Sofia Lindqvist", "Director, Corporate Accounts", "segment_lead",
            "segment=Corporate"),
    Persona("u10", "Jake Turner", "Account Executive - California Consumer", "sales_rep",
            "state=California;segment=Consumer"),
    Persona("u11", "Nadia Haddad", "Key Account Manager - Texas", "sales_rep", "state=Texas"),
    Persona("u12", "Greg Walsh", "Office Supplies Manager - South", "category_manager",
            "category=Office Supplies;region=South"),
    Persona("u13", "Lena Park", "Sales Operations Analyst", "vp_sales", "*"),
]


@dataclass(frozen=True)
class Vocabulary:
    """What a persona can name, taken from the real orders inside their scope."""

    filters: list[tuple[str, str]]
    outside: list[tuple[str, str]]
    top_dimensions: list[str]
    breakdown_dimensions: list[str]
    share_parts: list[tuple[str, str]]
    category_of: dict[str, str]  # sub-category -> its category


def _top(frame: pd.DataFrame, column: str, k: int) -> list[str]:
    return frame.groupby(column)["Sales"].sum().sort_values(ascending=False).index[:k].tolist()


def vocabulary_for(persona: Persona, orders: pd.DataFrame) -> Vocabulary:
    """Entities the persona would mention: big ones in their scope, plus a few outside it."""
    scope = persona.scope_filters()
    mine = orders
    for column, value in scope.items():
        mine = mine[mine[column] == value]
    candidates: list[tuple[str, str]] = []
    for column, k in (("Region", 4), ("Category", 3), ("Sub-Category", 6), ("Segment", 3),
                      ("State/Province", 5), ("Ship Mode", 4), ("City", 3)):
        state_scoped = "State/Province" in scope
        if column in scope or (column == "Region" and state_scoped) or (
                column == "City" and not state_scoped):
            continue
        candidates += [(column, v) for v in _top(mine, column, k)]
    outside = []
    for column, value in scope.items():
        others = [v for v in orders[column].unique() if v != value]
        outside += [(column, v) for v in sorted(others)[:2]]
    dims = ["Product Name", "Customer Name", "Sub-Category"]
    dims += ["City"] if "State/Province" in scope else ["State/Province"]
    dims += [] if "Category" in scope else ["Category"]
    breakdown = [d for d in ("Region", "Segment", "Category", "Ship Mode")
                 if d not in scope and not (d == "Region" and "State/Province" in scope)]
    breakdown += ["Sub-Category"] if "Category" in scope else []
    parts = [(c, v) for c, v in candidates if c in ("Sub-Category", "Segment", "Category",
                                                     "State/Province", "Ship Mode")]
    category_of = orders.groupby("Sub-Category")["Category"].first().to_dict()
    return Vocabulary(candidates, outside, dims, breakdown, parts, category_of)
