"""The canonical order-line layout (the headers a file may use for each column are the semantic
layer's: ``semantic_layer.SemanticLayer.headers``)."""

from __future__ import annotations

REQUIRED_COLUMNS: tuple[str, ...] = (
    "order_id", "order_date", "ship_date", "customer_id", "customer_name", "segment",
    "country", "region", "state", "city", "product_id", "category", "sub_category",
    "product_name", "quantity", "sales", "discount", "profit",
)
OPTIONAL_COLUMNS: tuple[str, ...] = ("rep_id", "rep_name", "channel", "ship_mode")
CANONICAL_COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

DATE_COLUMNS: tuple[str, ...] = ("order_date", "ship_date")
NUMERIC_COLUMNS: tuple[str, ...] = ("quantity", "sales", "discount", "profit")
KEY_COLUMNS: tuple[str, ...] = ("order_id", "order_date", "product_id", "customer_id")

# Line identity (``orders.line_key``). A line's own id (canonical ``line_id``, Superstore
# ``Row ID``) when it has one: 'id:<line_id>'; otherwise the declared key LINE_KEY_COLUMNS plus
# the line's rank, in file order, among the file's good lines with the same values there:
# 'op:["<order_id>","<product_id>"]#<rank>' (so a product twice in one order is two lines, and a
# cumulative export that repeats an order repeats its keys). Both key columns are required and
# never empty, so every line that loads has a key and no content-hash fallback is needed.
LINE_ID_COLUMN = "line_id"
LINE_KEY_COLUMNS: tuple[str, ...] = ("order_id", "product_id")

# Value limits: a longer text field, or a larger amount, quarantines its line (never truncated).
MAX_FIELD_CHARS = 10_000
MAX_ABS_AMOUNT = 1e12

# Columns a user's scope (and a question's filter) may name: the text dimensions of an order line.
DIMENSION_COLUMNS: tuple[str, ...] = (
    "segment", "country", "region", "state", "city", "category", "sub_category",
    "customer_name", "product_name", "rep_name", "channel", "ship_mode",
)
