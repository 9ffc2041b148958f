"""Hostile values and text: non-finite and locale amounts, negative quantities, encodings, huge
fields, and files of which no row can be loaded."""

from __future__ import annotations

import codecs
import gzip
from pathlib import Path

import duckdb
import pytest

from tests.test_ingest import TABLES, canonical_rows, counts, quarantine
from warehouse.storage.canonical import MAX_FIELD_CHARS
from warehouse.storage.ingest import (
    EveryRowQuarantinedError, IngestOptions, UndecodableFileError, ingest_file,
)
from warehouse.storage.schema import migrate

NAMES = ["José Müller", "Zoë Ærø", "François Nuñez", "Ça va", "Søren Ødegård", "Œuvre €"]


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    migrate(connection)
    yield connection
    connection.close()


BAD_AMOUNTS = [
    ("sales", "NaN", "sales 'NaN' is not a finite number"),
    ("sales", "-inf", "sales '-inf' is not a finite number"),
    ("profit", "Infinity", "profit 'Infinity' is not a finite number"),
    ("sales", "1e400", "sales '1e400' is out of range (more than 1,000,000,000,000 in absolute value)"),
    ("sales", "99999999999999999999", "sales '99999999999999999999' is out of range (more than "
                                      "1,000,000,000,000 in absolute value)"),
    ("sales", "1.234,56", "sales '1.234,56' is not a number (a decimal-comma number: declare the "
                          "decimal comma to load it)"),
    ("sales", "1_000", "sales '1_000' is not a number"),
    ("sales", "$12.50", "sales '$12.50' is not a number"),
    ("discount", "", "discount is empty"),
    ("profit", "0x10", "profit '0x10' is not a number"),
    ("quantity", "-2", "quantity '-2' is negative (returns and credits go in a returns file)"),
]


def test_bad_amounts_are_quarantined_with_column_and_reason(con, tmp_path):
    frame = canonical_rows(len(BAD_AMOUNTS) + 2)
    for i, (column, value, _) in enumerate(BAD_AMOUNTS):
        frame.loc[i, column] = value
    frame.loc[len(BAD_AMOUNTS), "sales"] = " 12.5 "  # spaces around a number are fine
    frame.to_csv(tmp_path / "amounts.csv", index=False)
    report = ingest_file(con, tmp_path / "amounts.csv")
    assert (report.rows_loaded, report.rows_quarantined) == (2, len(BAD_AMOUNTS))
    assert [r[2] for r in quarantine(con)] == [reason for _, _, reason in BAD_AMOUNTS]
    assert con.execute("SELECT sum(sales) FROM orders").fetchone()[0] == pytest.approx(
        12.5 + float(frame.sales.iloc[-1]))


def test_parquet_non_finite_and_negative_values_are_quarantined(con, tmp_path):
    frame = canonical_rows(4).astype({"sales": float, "quantity": float})
    frame.loc[0, "sales"] = float("nan")
    frame.loc[1, "sales"] = float("inf")
    frame.loc[2, "quantity"] = -1.0
    frame.to_parquet(tmp_path / "typed.parquet")
    report = ingest_file(con, tmp_path / "typed.parquet")
    assert (report.rows_loaded, report.rows_quarantined) == (1, 3)
    assert [r[2] for r in quarantine(con)] == [
        "sales is empty",  # pandas writes NaN as a Parquet null
        "sales 'inf' is not a finite number", "quantity '-1.0' is negative (returns and credits go "
                                               "in a returns file)"]


def test_a_declared_decimal_comma_reads_locale_amounts(con, tmp_path):
    frame = canonical_rows(3).assign(sales=["1.234,56", "7,5", "12"], profit=["-0,25", "3", "1.000"],
                                     discount="0,2")
    frame.to_csv(tmp_path / "eu.csv", index=False)
    report = ingest_file(con, tmp_path / "eu.csv", options=IngestOptions(decimal_comma=True))
    assert (report.rows_loaded, report.rows_quarantined) == (3, 0)
    assert con.execute("SELECT list(sales ORDER BY source_row), list(profit ORDER BY source_row) "
                       "FROM orders").fetchone() == ([1234.56, 7.5, 12.0], [-0.25, 3.0, 1000.0])


@pytest.mark.parametrize("encoding, label", [
    ("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 with BOM"), ("utf-16", "UTF-16 LE"),
    ("utf-16-be", "UTF-16 BE"), ("cp1252", "Windows-1252"), ("latin-1", "Windows-1252"),
])
def test_text_encodings_are_detected_and_names_load_intact(con, tmp_path, encoding, label):
    frame = canonical_rows(6).assign(customer_name=NAMES if encoding != "latin-1" else
                                     [n.replace("Œ", "Oe").replace("€", "E") for n in NAMES])
    text = frame.to_csv(index=False)
    if encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    else:
        data = text.encode(encoding)
    path = tmp_path / "names.csv.gz"
    path.write_bytes(gzip.compress(data))
    report = ingest_file(con, path)
    assert (report.rows_loaded, report.rows_quarantined, report.encoding) == (6, 0, label)
    loaded = [r[0] for r in con.execute("SELECT customer_name FROM orders ORDER BY source_row").fetchall()]
    assert loaded == frame.customer_name.tolist()


def test_a_declared_encoding_is_used(con, tmp_path):
    text = canonical_rows(2).assign(city="Köln").to_csv(index=False)
    (tmp_path / "x.csv").write_bytes(text.encode("cp1252"))
    report = ingest_file(con, tmp_path / "x.csv", options=IngestOptions(encoding="latin-1"))
    assert report.encoding == "latin-1" and report.rows_loaded == 2
    assert con.execute("SELECT DISTINCT city FROM orders").fetchall() == [("Köln",)]
    with pytest.raises(ValueError, match="unknown text encoding 'klingon'"):
        IngestOptions(encoding="klingon")


@pytest.mark.parametrize("content, problem", [
    (canonical_rows(2).to_csv(index=False).encode("utf-16-le"), "NUL byte at byte 1"),
    ("order_id,city\nJosé,Köln\nZoë,Nîmes\n".encode() + b"Andr\xe9,x\n", "UTF-8 with 1 invalid byte"),
    (b"order_id,city\nA,\x81\x8d\x90\n", "neither UTF-8 nor Windows-1252/Latin-1 (byte 0x81"),
    (codecs.BOM_UTF16_LE + "order_id\nA\n".encode("utf-16-le") + b"\x00", "not valid UTF-16 LE"),
])
def test_text_that_cannot_be_decoded_is_rejected_whole(con, tmp_path, content, problem):
    (tmp_path / "bad.csv").write_bytes(content)
    with pytest.raises(UndecodableFileError) as err:
        ingest_file(con, tmp_path / "bad.csv")
    message = str(err.value)
    assert message.startswith("bad.csv: cannot be decoded: ") and problem in message and "\n" not in message
    assert counts(con) == dict.fromkeys(TABLES, 0)


def test_a_huge_field_quarantines_its_line_and_the_rest_loads(con, tmp_path):
    frame = canonical_rows(6)
    frame.loc[2, "product_name"] = "x" * 3_000_000  # over read_csv's default 2 MB line limit
    frame.loc[4, "customer_name"] = "y" * (MAX_FIELD_CHARS + 1)
    frame.loc[5, "customer_name"] = "z" * MAX_FIELD_CHARS  # at the limit: loads whole
    frame.to_csv(tmp_path / "long.csv", index=False)
    report = ingest_file(con, tmp_path / "long.csv")
    assert (report.rows_loaded, report.rows_quarantined) == (4, 2)
    assert [(r[1], r[2]) for r in quarantine(con)] == [
        (3, f"field too long: column product_name over {MAX_FIELD_CHARS:,} characters"),
        (5, f"field too long: column customer_name over {MAX_FIELD_CHARS:,} characters")]
    assert con.execute("SELECT max(length(customer_name)) FROM orders").fetchone()[0] == MAX_FIELD_CHARS


def test_a_file_whose_every_row_is_quarantined_is_rejected(con, tmp_path):
    frame = canonical_rows(3).assign(sales="n/a")
    frame.to_csv(tmp_path / "hopeless.csv", index=False)
    with pytest.raises(EveryRowQuarantinedError) as err:
        ingest_file(con, tmp_path / "hopeless.csv")
    assert str(err.value) == ("hopeless.csv: every row (3) was quarantined, nothing loaded "
                              "(row 1: sales 'n/a' is not a number; row 2: sales 'n/a' is not a number)")
    assert counts(con) == dict.fromkeys(TABLES, 0)

