"""The hand-labelled text-to-SQL fixture (tests/fixtures/text2sql_specs): real questions other
people wrote, each labelled with its query spec or with why the default layer cannot express it.

What must hold (no LLM runs): every label is a valid spec of the layer, the counts match the
fixture's README, the question texts are the data set's verbatim, and no decoy (the most
plausible wrong spec for a question the layer cannot express) is accepted by verification.
How the labels themselves verify (many need review) is reported, not asserted.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pytest

from warehouse.language.entities import EntityIndex
from warehouse.language.query_spec import QuerySpec, to_instance, verify
from warehouse.semantic.facts import build_sales_facts
from warehouse.storage.ingest import ingest_file
from warehouse.storage.schema import migrate

FIXTURE_DIR = Path(__file__).parent / "fixtures" / "text2sql_specs"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
QUESTIONS = SHARED / "sales_text2sql_questions" / "questions.csv.gz"
ORDERS = SHARED / "superstore_sales" / "orders.csv.gz"

needs_shared = pytest.mark.skipif(not (QUESTIONS.is_file() and ORDERS.is_file()),
                                  reason="../shared/data (text2sql questions, Superstore orders) is not here")


def load_labels() -> list[dict]:
    """The fixture's rows."""
    return [json.loads(line) for line in (FIXTURE_DIR / "labels.jsonl").read_text().splitlines() if line.strip()]


def readme_count(label: str) -> int:
    """A count the README states as ``- <label>: N``."""
    match = re.search(rf"^- {re.escape(label)}: (\d+)$", (FIXTURE_DIR / "README.md").read_text(), re.MULTILINE)
    assert match, f"README has no count for {label!r}"
    return int(match.group(1))


@pytest.fixture(scope="module")
def entities() -> EntityIndex:
    con = duckdb.connect()
    migrate(con)
    ingest_file(con, ORDERS)
    build_sales_facts(con)
    return EntityIndex.from_connection(con)


def test_every_label_is_a_valid_spec_of_the_layer() -> None:
    rows = load_labels()
    for row in rows:
        assert row["expressible"] == (row["spec"] is not None), row["question_uid"]
        date.fromisoformat(row["asked_on"])
        for kind in ("spec", "decoy"):
            if row[kind] is not None:
                to_instance(QuerySpec.from_dict(row[kind]))    # raises SpecError when not valid
        assert row["reason"], row["question_uid"]


def test_counts_match_the_readme() -> None:
    rows = load_labels()
    codes = Counter(r["reason_code"] for r in rows if not r["expressible"])
    assert len(rows) == readme_count("questions labelled")
    assert sum(r["expressible"] for r in rows) == readme_count("expressible")
    assert sum(not r["expressible"] for r in rows) == readme_count("not expressible")
    assert sum(r["db_id"] == "superstore" for r in rows) == readme_count("from BIRD superstore")
    for code, count in codes.items():
        assert count == readme_count(f"not expressible, {code}"), code
    assert len({r["question_uid"] for r in rows}) == len(rows)


@needs_shared
def test_questions_are_the_data_sets_verbatim() -> None:
    with gzip.open(QUESTIONS, "rt", encoding="utf-8", newline="") as fh:
        source = {r["question_uid"]: r for r in csv.DictReader(fh)}
    for row in load_labels():
        assert source[row["question_uid"]]["question"] == row["question"]
        assert source[row["question_uid"]]["db_id"] == row["db_id"]
    superstore = {uid for uid, r in source.items() if r["db_id"] == "superstore"}
    assert superstore <= {r["question_uid"] for r in load_labels()}, "every BIRD superstore question is labelled"


@needs_shared
def test_no_decoy_is_accepted_and_label_verdicts_are_reported(entities: EntityIndex) -> None:
    rows = load_labels()
    decoys = [r for r in rows if r["decoy"] is not None]
    assert decoys and all(not r["expressible"] for r in decoys)
    accepted = [r["question_uid"] for r in decoys
                if verify(QuerySpec.from_dict(r["decoy"]), r["question"], entities,
                          asked_on=date.fromisoformat(r["asked_on"]), scope={}).accepted]
    assert accepted == [], f"decoy specs accepted for questions the layer cannot express: {accepted}"
    verdicts = Counter(verify(QuerySpec.from_dict(r["spec"]), r["question"], entities,
                              asked_on=date.fromisoformat(r["asked_on"]), scope={}).status
                       for r in rows if r["expressible"])
    print(f"\nlabels of expressible questions verify as: {dict(sorted(verdicts.items()))} "
          f"({len(decoys)} decoys, none accepted)")
    assert sum(verdicts.values()) == readme_count("expressible")
