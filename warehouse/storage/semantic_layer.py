"""The semantic-layer file: its typed contract, its validation, and which file is active.

A layer (YAML, dbt MetricFlow's vocabulary: a semantic model with a source, entities, measures
and dimensions; metrics built on measures) declares what Offpeak can answer. The catalogue, the
SQL, understanding's vocabulary, the narrative's units and the forecast's role defaults are all
derived from it. The active layer is ``OFFPEAK_SEMANTIC_LAYER`` (a path) or the shipped default
``semantic_layers/order_lines.yaml``; it is read once per process.

Every error names the file, the line and the key: ``layer.yaml:41: metrics[2].unit: 'cash' is
not one of money, count, ratio``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from warehouse.storage.canonical import CANONICAL_COLUMNS, DATE_COLUMNS, LINE_ID_COLUMN, NUMERIC_COLUMNS

DEFAULT_LAYER = Path(__file__).resolve().parents[2] / "semantic_layers" / "order_lines.yaml"
LAYER_ENV = "OFFPEAK_SEMANTIC_LAYER"

AGGREGATIONS = ("sum", "count", "count_distinct", "average", "min", "max")
METRIC_TYPES = ("simple", "ratio", "derived")
UNITS = ("money", "count", "ratio")
FORMATS = ("currency", "percent", "integer", "units")
DIRECTIONS = ("up", "down")
SHAPES = ("total", "vs_previous", "vs_last_year", "top_n", "bottom_n", "breakdown", "share", "trend",
          "movers", "drivers", "new_vs_returning")
_DEFAULT_FORMAT = {"money": "currency", "count": "integer", "ratio": "percent"}
# How each display format is written in answers and on the snapshot (formatting.format_figure).
DISPLAY_UNITS = {"currency": "$", "percent": "%", "integer": "count", "units": "units"}
# Columns a measure or a dimension may read: the line layout and the returned flag.
FACT_COLUMNS: tuple[str, ...] = CANONICAL_COLUMNS + ("returned",)
_TEXT_COLUMNS = tuple(c for c in CANONICAL_COLUMNS if c not in NUMERIC_COLUMNS + DATE_COLUMNS)
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_DERIVED_TOKEN = re.compile(r"\s*(?:([a-z][a-z0-9_]*)|(\d+(?:\.\d+)?)|([-+*/()]))")


class SemanticLayerError(ValueError):
    """A semantic-layer file that cannot be used: the message names file, line and key."""


@dataclass(frozen=True)
class Measure:
    """An aggregation of one column of the order lines (optionally only where a flag is true)."""

    name: str
    agg: str
    column: str
    where: str | None = None

    def sql(self) -> str:
        """The aggregate over alias ``o``."""
        value = f"o.{self.column}" if self.where is None else f"CASE WHEN o.{self.where} THEN o.{self.column} END"
        if self.agg == "count_distinct":
            return f"count(DISTINCT {value})"
        return f"{ {'average': 'avg'}.get(self.agg, self.agg)}({value})"


@dataclass(frozen=True)
class Metric:
    """A metric a question can name: its SQL, how it reads, the words that name it."""

    name: str
    label: str
    sql: str                         # an aggregate over alias ``o`` (order lines, ``returned`` flag)
    unit: str                        # display unit: '$', '%', 'count', 'units'
    synonyms: tuple[str, ...]
    direction: str = "up"            # 'up': more is good
    companions: tuple[str, ...] = ()  # words its questions carry beside its name
    profitability: bool = False      # what "lost money" / "most profitable" ask about
    additive: bool = False           # its parts add up to its whole (a sum)
    signal: bool = False             # watched for values beyond their usual band (daily sums)
    needs_lines: bool = False        # undefined over no lines (a ratio, an average), not zero


@dataclass(frozen=True)
class Dimension:
    """A column questions rank, break down, filter or drill by."""

    name: str
    column: str
    plural: str
    synonyms: tuple[str, ...]
    label: str                       # the singular as a question says it ("sub-category")
    rank: bool = False
    values: bool = False
    parent: str | None = None        # the next coarser dimension of its hierarchy
    member_words: tuple[str, ...] = ()   # words that may stand before a member ("shipped" First Class)
    aliases: tuple[tuple[str, str], ...] = ()   # (alias, member): "tx" names Texas where Texas is a member


@dataclass(frozen=True)
class RoleDefault:
    """A question a role usually asks before a user has history: intent, parameters, probability."""

    intent: str
    params: dict[str, Any]
    probability: float


@dataclass(frozen=True)
class SemanticLayer:
    """One validated semantic-layer file."""

    name: str
    path: Path
    time_column: str
    grain: str
    headers: dict[str, tuple[str, ...]]   # line column -> headers a file may use for it
    entities: dict[str, str]              # entity name -> identifying column
    measures: dict[str, Measure]
    metrics: dict[str, Metric]
    dimensions: dict[str, Dimension]
    hierarchies: tuple[tuple[str, ...], ...]
    shapes: tuple[str, ...]
    defaults: dict[str, Any]              # metric, breakdown, movers, n, drivers, signal_drills
    role_defaults: dict[str, tuple[RoleDefault, ...]]
    digest: str                           # sha256 of the file's text, first 12 hex digits

    @property
    def fingerprint(self) -> str:
        """``name@digest``: which layer, in which version (a snapshot records it)."""
        return f"{self.name}@{self.digest}"

    def dimension_of_column(self, column: str) -> Dimension | None:
        """The dimension reading ``column`` (None when none does)."""
        return next((d for d in self.dimensions.values() if d.column == column), None)

    def ancestors(self, column: str) -> list[str]:
        """The columns above ``column`` in its hierarchy, nearest first."""
        out, dimension = [], self.dimension_of_column(column)
        while dimension is not None and dimension.parent is not None:
            dimension = self.dimensions[dimension.parent]
            out.append(dimension.column)
        return out


class _Reader:
    """Values of a composed YAML document with the line each came from."""

    def __init__(self, path: Path, text: str):
        self.path = path
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
            raise SemanticLayerError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
        self.lines: dict[str, int] = {}
        self.root = self._plain(node, "") if node is not None else {}

    def _plain(self, node: yaml.Node, key: str) -> Any:
        self.lines[key] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for k, v in node.value:
                name = str(k.value)
                child = f"{key}.{name}" if key else name
                if name in out:
                    self.lines[child] = k.start_mark.line + 1
                    self.fail(child, "is given twice")
                self.lines[child] = k.start_mark.line + 1
                out[name] = self._plain(v, child)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self._plain(v, f"{key}[{i}]") for i, v in enumerate(node.value)]
        return _scalar(node)

    def fail(self, key: str, message: str) -> None:
        line = self.lines.get(key) or self.lines.get(key.rsplit(".", 1)[0]) or 1
        raise SemanticLayerError(f"{self.path}:{line}: {key}: {message}")

    def mapping(self, value: Any, key: str, required: tuple[str, ...], optional: tuple[str, ...]) -> dict:
        if not isinstance(value, dict):
            self.fail(key, "must be a mapping")
        for name in required:
            if name not in value:
                self.fail(key, f"missing key '{name}'")
        for name in value:
            if name not in required + optional:
                self.fail(f"{key}.{name}" if key else name,
                          f"unknown key (expected one of {', '.join(required + optional)})")
        return value

    def text(self, value: Any, key: str, choices: tuple[str, ...] = (), name: bool = False) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(key, "must be non-empty text")
        if choices and value not in choices:
            self.fail(key, f"{value!r} is not one of {', '.join(choices)}")
        if name and not _NAME.fullmatch(value):
            self.fail(key, f"{value!r} is not a name (lower-case letters, digits, underscores)")
        return value

    def words(self, value: Any, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(w, str) and w.strip() for w in value):
            self.fail(key, "must be a list of words or phrases")
        return tuple(" ".join(w.lower().replace("-", " ").split()) for w in value)

    def flag(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            self.fail(key, "must be true or false")
        return value


def _scalar(node: yaml.ScalarNode) -> Any:
    """A scalar as YAML's safe loader reads it (so ``true`` is a bool and ``0.1`` a float)."""
    return yaml.SafeLoader("").construct_object(node)


def load_layer(path: str | os.PathLike[str]) -> SemanticLayer:
    """Read and validate a semantic-layer file; raise SemanticLayerError naming line and key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SemanticLayerError(f"{path}: cannot read the semantic layer: {exc}") from None
    r = _Reader(path, text)
    root = r.mapping(r.root, "", ("version", "semantic_model", "metrics", "questions"), ())
    if root["version"] != 1:
        r.fail("version", f"{root['version']!r}: this Offpeak reads version 1")
    model = r.mapping(root["semantic_model"], "semantic_model", ("name", "source", "measures", "dimensions"),
                      ("description", "entities", "hierarchies"))
    name = r.text(model["name"], "semantic_model.name", name=True)
    time_column, grain, headers = _source(r, model["source"], "semantic_model.source")
    entities = _entities(r, model.get("entities", []), "semantic_model.entities")
    measures = _measures(r, model["measures"], "semantic_model.measures")
    dimensions = _dimensions(r, model["dimensions"], "semantic_model.dimensions")
    hierarchies = _hierarchies(r, model.get("hierarchies", []), "semantic_model.hierarchies", dimensions)
    metrics = _metrics(r, root["metrics"], "metrics", measures)
    _no_shared_words(r, metrics, dimensions)
    shapes, defaults, role_defaults = _questions(r, root["questions"], "questions", metrics, dimensions)
    return SemanticLayer(name, path, time_column, grain, headers, entities, measures, metrics, dimensions,
                         hierarchies, shapes, defaults, role_defaults,
                         hashlib.sha256(text.encode("utf-8")).hexdigest()[:12])


def _source(r: _Reader, value: Any, key: str) -> tuple[str, str, dict[str, tuple[str, ...]]]:
    source = r.mapping(value, key, ("time_column", "columns"), ("grain",))
    time_column = r.text(source["time_column"], f"{key}.time_column", DATE_COLUMNS)
    columns = r.mapping(source["columns"], f"{key}.columns", (), CANONICAL_COLUMNS + (LINE_ID_COLUMN,))
    headers = {c: tuple(str(h) for h in _header_list(r, v, f"{key}.columns.{c}")) for c, v in columns.items()}
    seen: dict[str, str] = {}
    for column, names in headers.items():
        for header in names:
            other = seen.setdefault(header.lower(), column)
            if other != column:
                r.fail(f"{key}.columns.{column}", f"header {header!r} is also given for {other}")
    return time_column, str(source.get("grain", "order line")), headers


def _header_list(r: _Reader, value: Any, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(h, str) and h.strip() for h in value):
        r.fail(key, "must be a list of header names")
    return value


def _named_list(r: _Reader, value: Any, key: str) -> list[tuple[str, dict]]:
    if not isinstance(value, list) or not value:
        r.fail(key, "must be a non-empty list")
    out, names = [], set()
    for i, item in enumerate(value):
        if not isinstance(item, dict) or "name" not in item:
            r.fail(f"{key}[{i}]", "must be a mapping with a 'name'")
        item_name = r.text(item["name"], f"{key}[{i}].name", name=True)
        if item_name in names:
            r.fail(f"{key}[{i}].name", f"{item_name!r} is declared twice")
        names.add(item_name)
        out.append((f"{key}[{i}]", item))
    return out


def _entities(r: _Reader, value: Any, key: str) -> dict[str, str]:
    out = {}
    for k, item in (_named_list(r, value, key) if value else []):
        r.mapping(item, k, ("name", "column"), ())
        out[item["name"]] = r.text(item["column"], f"{k}.column", CANONICAL_COLUMNS)
    return out


def _measures(r: _Reader, value: Any, key: str) -> dict[str, Measure]:
    out = {}
    for k, item in _named_list(r, value, key):
        r.mapping(item, k, ("name", "agg", "column"), ("where",))
        agg = r.text(item["agg"], f"{k}.agg", AGGREGATIONS)
        column = r.text(item["column"], f"{k}.column", FACT_COLUMNS)
        if agg in ("sum", "average", "min", "max") and column not in NUMERIC_COLUMNS:
            r.fail(f"{k}.column", f"{agg} needs a numeric column ({', '.join(NUMERIC_COLUMNS)})")
        where = r.text(item["where"], f"{k}.where", ("returned",)) if "where" in item else None
        out[item["name"]] = Measure(item["name"], agg, column, where)
    return out


def _dimensions(r: _Reader, value: Any, key: str) -> dict[str, Dimension]:
    out = {}
    for k, item in _named_list(r, value, key):
        r.mapping(item, k, ("name", "column", "plural", "synonyms"),
                  ("label", "rank", "values", "member_words", "aliases"))
        column = r.text(item["column"], f"{k}.column", _TEXT_COLUMNS)
        if any(d.column == column for d in out.values()):
            r.fail(f"{k}.column", f"{column!r} is already a dimension")
        out[item["name"]] = Dimension(
            item["name"], column, r.text(item["plural"], f"{k}.plural"), r.words(item["synonyms"], f"{k}.synonyms"),
            r.text(item.get("label", item["name"].replace("_", "-")), f"{k}.label"),
            *(r.flag(item.get(f, False), f"{k}.{f}") for f in ("rank", "values")),
            member_words=r.words(item.get("member_words", []), f"{k}.member_words"),
            aliases=_aliases(r, item.get("aliases", {}), f"{k}.aliases"))
    return out


def _aliases(r: _Reader, value: Any, key: str) -> tuple[tuple[str, str], ...]:
    """A dimension's member aliases: a mapping of short names to members ("tx: Texas")."""
    if not isinstance(value, dict) or not all(isinstance(a, str) and a.strip() and isinstance(m, str) and m.strip()
                                              for a, m in value.items()):
        r.fail(key, "must map each alias to a member, e.g. {tx: Texas}")
    return tuple((" ".join(a.lower().split()), m.strip()) for a, m in value.items())


def _hierarchies(r: _Reader, value: Any, key: str, dimensions: dict[str, Dimension]) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list):
        r.fail(key, "must be a list of dimension lists, coarse to fine")
    out = []
    for i, chain in enumerate(value):
        if not isinstance(chain, list) or len(chain) < 2:
            r.fail(f"{key}[{i}]", "must list at least two dimensions, coarse to fine")
        for j, name in enumerate(chain):
            if name not in dimensions:
                r.fail(f"{key}[{i}][{j}]", f"{name!r} is not a declared dimension")
            if j and dimensions[name].parent is not None:
                r.fail(f"{key}[{i}][{j}]", f"{name!r} already has a parent ({dimensions[name].parent})")
            if j:
                dimensions[name] = _with_parent(dimensions[name], chain[j - 1])
        out.append(tuple(chain))
    return tuple(out)


def _with_parent(dimension: Dimension, parent: str) -> Dimension:
    return dataclasses.replace(dimension, parent=parent)


def _metrics(r: _Reader, value: Any, key: str, measures: dict[str, Measure]) -> dict[str, Metric]:
    out: dict[str, Metric] = {}
    for k, item in _named_list(r, value, key):
        r.mapping(item, k, ("name", "label", "type", "unit", "synonyms"),
                  ("measure", "numerator", "denominator", "expr", "format", "direction", "companions",
                   "profitability", "signal"))
        kind = r.text(item["type"], f"{k}.type", METRIC_TYPES)
        unit = r.text(item["unit"], f"{k}.unit", UNITS)
        shown = r.text(item.get("format", _DEFAULT_FORMAT[unit]), f"{k}.format", FORMATS)
        scale = "100 * " if shown == "percent" else ""
        needs = {"simple": ("measure",), "ratio": ("numerator", "denominator"), "derived": ("expr",)}[kind]
        for other in ("measure", "numerator", "denominator", "expr"):
            if other in item and other not in needs:
                r.fail(f"{k}.{other}", f"a {kind} metric takes {', '.join(needs)}, not {other}")
            if other in needs and other not in item:
                r.fail(k, f"a {kind} metric needs '{other}'")
        refs = {n: measures[r.text(item[n], f"{k}.{n}", tuple(measures))] for n in needs if n != "expr"}
        if kind == "simple":
            sql, additive = f"coalesce({scale}{refs['measure'].sql()}, 0)", refs["measure"].agg in ("sum", "count")
        elif kind == "ratio":
            sql, additive = (f"coalesce({scale}{refs['numerator'].sql()} / nullif({refs['denominator'].sql()}, 0), 0)",
                             False)
        else:
            sql, additive = f"coalesce({scale}({_derived_sql(r, item['expr'], f'{k}.expr', out)}), 0)", False
        out[item["name"]] = Metric(
            item["name"], r.text(item["label"], f"{k}.label"), sql, DISPLAY_UNITS[shown],
            r.words(item["synonyms"], f"{k}.synonyms"),
            r.text(item.get("direction", "up"), f"{k}.direction", DIRECTIONS),
            r.words(item.get("companions", []), f"{k}.companions"),
            r.flag(item.get("profitability", False), f"{k}.profitability"), additive,
            _signal_flag(r, item, k, refs),
            needs_lines=kind == "ratio" or (kind == "simple" and refs["measure"].agg in ("average", "min", "max")))
    return out


def _signal_flag(r: _Reader, item: dict, key: str, refs: dict[str, Measure]) -> bool:
    """A signal metric's daily values are summed over a period: a simple sum or count, or a
    distinct count of what falls on one day (an order)."""
    wanted = r.flag(item.get("signal", False), f"{key}.signal")
    if wanted and not (item["type"] == "simple" and refs["measure"].agg in ("sum", "count", "count_distinct")):
        r.fail(f"{key}.signal", "a signal metric must be simple, on a sum, count or distinct count")
    return wanted


def _derived_sql(r: _Reader, expr: Any, key: str, metrics: dict[str, Metric]) -> str:
    """A derived metric's arithmetic over metrics declared before it (names, numbers, + - * / ( ))."""
    text = r.text(expr, key)
    out, position = [], 0
    while position < len(text.rstrip()):
        match = _DERIVED_TOKEN.match(text, position)
        if not match:
            r.fail(key, f"cannot read {text[position:].strip()!r} (metric names, numbers and + - * / ( ) only)")
        name, number, operator = match.groups()
        if name and name not in metrics:
            r.fail(key, f"{name!r} is not a metric declared above it")
        out.append(f"({metrics[name].sql})" if name else (number or operator))
        position = match.end()
    return " ".join(out)


def _no_shared_words(r: _Reader, metrics: dict[str, Metric], dimensions: dict[str, Dimension]) -> None:
    """A word naming two metrics (or two dimensions) makes questions ambiguous: refuse the file."""
    for things, where in ((metrics, "metrics"), (dimensions, "semantic_model.dimensions")):
        owner: dict[str, str] = {}
        for index, thing in enumerate(things.values()):
            for word in thing.synonyms:
                other = owner.setdefault(word, thing.name)
                if other != thing.name:
                    r.fail(f"{where}[{index}].synonyms", f"{word!r} also names {other}")


def _questions(r: _Reader, value: Any, key: str, metrics: dict[str, Metric], dimensions: dict[str, Dimension]):
    q = r.mapping(value, key, ("shapes", "default_metric"),
                  ("default_breakdown", "default_movers", "default_n", "drivers", "signal_drills",
                   "role_defaults"))
    if not isinstance(q["shapes"], list) or not q["shapes"]:
        r.fail(f"{key}.shapes", f"must list some of {', '.join(SHAPES)}")
    shapes = tuple(r.text(s, f"{key}.shapes[{i}]", SHAPES) for i, s in enumerate(q["shapes"]))
    first = next(iter(dimensions))
    defaults = {"metric": r.text(q["default_metric"], f"{key}.default_metric", tuple(metrics)),
                "breakdown": r.text(q.get("default_breakdown", first), f"{key}.default_breakdown", tuple(dimensions)),
                "movers": r.text(q.get("default_movers", first), f"{key}.default_movers", tuple(dimensions)),
                "n": q.get("default_n", 5),
                "drivers": tuple(r.text(d, f"{key}.drivers[{i}]", tuple(dimensions))
                                 for i, d in enumerate(_list(r, q.get("drivers", []), f"{key}.drivers"))),
                "signal_drills": tuple(r.text(d, f"{key}.signal_drills[{i}]", tuple(dimensions)) for i, d in
                                       enumerate(_list(r, q.get("signal_drills", []), f"{key}.signal_drills")))}
    if isinstance(defaults["n"], bool) or not isinstance(defaults["n"], int) or not 1 <= defaults["n"] <= 50:
        r.fail(f"{key}.default_n", "must be a whole number from 1 to 50")
    roles = q.get("role_defaults", {})
    if not isinstance(roles, dict):
        r.fail(f"{key}.role_defaults", "must map a role to its usual questions")
    out: dict[str, tuple[RoleDefault, ...]] = {}
    for role, items in roles.items():
        where = f"{key}.role_defaults.{role}"
        if not isinstance(items, list):
            r.fail(where, "must be a list of {intent, ..., probability}")
        out[role] = tuple(_role_default(r, item, f"{where}[{i}]") for i, item in enumerate(items))
    return shapes, defaults, out


def _list(r: _Reader, value: Any, key: str) -> list:
    if not isinstance(value, list):
        r.fail(key, "must be a list")
    return value


def _role_default(r: _Reader, item: Any, key: str) -> RoleDefault:
    if not isinstance(item, dict) or "intent" not in item or "probability" not in item:
        r.fail(key, "must be a mapping with 'intent' and 'probability'")
    p = item["probability"]
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 < p <= 1:
        r.fail(f"{key}.probability", "must be a number in (0, 1]")
    params = {k: v for k, v in item.items() if k not in ("intent", "probability")}
    return RoleDefault(r.text(item["intent"], f"{key}.intent", name=True), params, float(p))


@lru_cache(maxsize=None)
def _load_cached(path: str) -> SemanticLayer:
    return load_layer(path)


def active_layer_path() -> Path:
    """The layer this process uses: ``OFFPEAK_SEMANTIC_LAYER`` or the shipped default."""
    chosen = os.environ.get(LAYER_ENV, "").strip()
    return Path(chosen).expanduser().resolve() if chosen else DEFAULT_LAYER


def active_layer() -> SemanticLayer:
    """The active semantic layer (read and validated once per process)."""
    return _load_cached(str(active_layer_path()))
