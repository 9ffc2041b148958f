"""The semantic-layer file: the default loads as the catalogue's source; a broken file names its
line and key; what the layer declares is what the product derives."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from warehouse.semantic.catalogue import CATALOGUE, DIMENSIONS, METRICS
from warehouse.storage.paths import REPO_ROOT
from warehouse.storage.semantic_layer import DEFAULT_LAYER, SemanticLayerError, load_layer

DEFAULT_TEXT = DEFAULT_LAYER.read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _broken(tmp_path, old: str, new: str):
    assert old in DEFAULT_TEXT
    text = DEFAULT_TEXT.replace(old, new, 1)
    path = tmp_path / "layer.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SemanticLayerError) as err:
        load_layer(path)
    return str(err.value), text


def test_the_default_layer_is_what_the_catalogue_holds():
    layer = load_layer(DEFAULT_LAYER)
    assert set(layer.metrics) == set(METRICS) >= {
        "revenue", "profit", "orders", "quantity", "customers", "aov", "asp", "margin", "discount", "return_rate"}
    assert set(layer.dimensions) == set(DIMENSIONS) >= {
        "region", "state", "city", "category", "sub_category", "segment", "ship_mode", "customer", "product"}
    assert {f"{m}_{c}" for m in layer.metrics for c in ("total", "vs_prev", "vs_last_year")} <= set(CATALOGUE)
    assert layer.ancestors("city") == ["state", "region"]
    assert layer.ancestors("product_name") == ["sub_category", "category"]


@pytest.mark.parametrize("old, new, key, words", [
    ("agg: sum, column: sales}", "agg: total, column: sales}", "semantic_model.measures[0].agg",
     "'total' is not one of sum"),
    ("    measure: sales\n", "    measure: turnover\n", "metrics[0].measure", "'turnover' is not one of"),
    ("    unit: money\n", "    unit: cash\n", "metrics[0].unit", "'cash' is not one of money, count, ratio"),
    ("      ship_mode: [Ship Mode]", "      ship_method: [Ship Mode]", "semantic_model.source.columns.ship_method",
     "unknown key"),
    ("    - [region, state, city]", "    - [region, county, city]", "semantic_model.hierarchies[0][1]",
     "'county' is not a declared dimension"),
    ("synonyms: [margin, profit margin,", "synonyms: [revenue, profit margin,", "metrics[4].synonyms",
     "'revenue' also names revenue"),
    ("  default_metric: revenue", "  default_metric: bookings", "questions.default_metric", "'bookings'"),
    ("    type: ratio\n    numerator: sales\n    denominator: order_count\n",
     "    type: derived\n    expr: revenue / orderz\n", "metrics[3].expr", "'orderz' is not a metric"),
    ("version: 1", "version: 2", "version", "reads version 1"),
    ("      aliases: {ak: Alaska,", "      aliases: {ak: 7,", "semantic_model.dimensions[2].aliases",
     "must map each alias to a member"),
    ("    label: Revenue\n", "    label: Revenue\n    colour: green\n", "metrics[0].colour", "unknown key"),
])
def test_a_broken_layer_names_line_and_key(tmp_path, old, new, key, words):
    message, text = _broken(tmp_path, old, new)
    line = _line_of(text, new.strip().splitlines()[-1].strip())
    assert f"layer.yaml:{line}: {key}: " in message and words in message, message


def test_invalid_yaml_names_its_line(tmp_path):
    path = tmp_path / "layer.yaml"
    path.write_text("version: 1\nsemantic_model: [\n", encoding="utf-8")
    with pytest.raises(SemanticLayerError, match=r"layer.yaml:\d+: not valid YAML"):
        load_layer(path)


def test_a_derived_metric_is_arithmetic_over_metrics(tmp_path):
    text = DEFAULT_TEXT.replace("questions:\n", """  - name: cost
    label: Cost of sales
    type: derived
    expr: revenue - profit
    unit: money
    direction: down
    synonyms: [cost of sales]
questions:
""", 1)
    path = tmp_path / "layer.yaml"
    path.write_text(text, encoding="utf-8")
    cost = load_layer(path).metrics["cost"]
    con = duckdb.connect()
    con.execute("CREATE TABLE o AS SELECT * FROM (VALUES (10.0, 3.0), (5.0, -1.0)) t(sales, profit)")
    assert con.execute(f"SELECT {cost.sql} FROM o").fetchone()[0] == pytest.approx(13.0)
    assert con.execute(f"SELECT {cost.sql} FROM o WHERE false").fetchone()[0] == 0


def test_the_cli_reports_a_broken_layer_in_one_line(tmp_path):
    message, text = _broken(tmp_path, "    unit: money\n", "    unit: cash\n")
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", "--semantic-layer", str(tmp_path / "layer.yaml"),
                           "--home", str(tmp_path / "home"), "window"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "metrics[0].unit: 'cash' is not one of money, count, ratio" in done.stderr
