"""Sales-file ingest: layouts, formats, idempotence, quarantine, rejection and rollback."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from warehouse.storage.canonical import CANONICAL_COLUMNS
from warehouse.storage.paths import REPO_ROOT
from warehouse.storage.ingest import (
    IngestFailure, IngestReport, MissingColumnsError, UnreadableFileError, ingest_drop_folder,
    ingest_file, pending_files,
)
from warehouse.storage.schema import migrate

SUPERSTORE = REPO_ROOT.parent / "shared" / "data" / "superstore_sales"
TABLES = ("orders", "returns", "ingested_files", "quarantine")


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    connection.execute("SET enable_progress_bar = false")
    migrate(connection)
    yield connection
    connection.close()


@pytest.fixture
def superstore() -> Path:
    if not (SUPERSTORE / "orders.csv.gz").exists():
        pytest.skip(f"Superstore sample not found at {SUPERSTORE}")
    return SUPERSTORE


def canonical_rows(n: int = 6) -> pd.DataFrame:
    """``n`` valid canonical order lines as text, like a CSV export."""
    return pd.DataFrame([{
        "order_id": f"O-{i // 2 + 1}", "order_date": f"2024-03-{i + 1:02d}",
        "ship_date": f"2024-03-{i + 3:02d}", "customer_id": f"C-{i % 3}",
        "customer_name": f"Customer {i % 3}", "segment": "Consumer", "country": "United States",
        "region": "West", "state": "California", "city": "Los Angeles", "product_id": f"P-{i}",
        "category": "Technology", "sub_category": "Phones", "product_name": f"Phone {i}",
        "quantity": str(i + 1), "sales": f"{100.5 * (i + 1):.2f}", "discount": "0.2",
        "profit": f"{-5.25 + i:.2f}", "rep_id": "R001", "rep_name": "Ann Lee", "channel": "Online",
    } for i in range(n)])


def counts(con) -> dict[str, int]:
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def quarantine(con) -> list[tuple]:
    return con.execute(
        "SELECT source_file, row_number, reason, raw FROM quarantine ORDER BY row_number").fetchall()


def test_superstore_orders_match_an_independent_pandas_read(con, superstore):
    expected = pd.read_csv(superstore / "orders.csv.gz")
    report = ingest_file(con, superstore / "orders.csv.gz")
    assert report == IngestReport(superstore / "orders.csv.gz", "aliased", 10_194, 0, False)
    n, sales, profit, orders = con.execute(
        "SELECT count(*), sum(sales), sum(profit), count(DISTINCT order_id) FROM orders").fetchone()
    assert n == len(expected) == 10_194
    assert round(sales, 2) == round(expected["Sales"].sum(), 2) == 2_326_534.35
    assert round(profit, 2) == round(expected["Profit"].sum(), 2)
    assert orders == expected["Order ID"].nunique()
    first = con.execute("SELECT order_id, order_date, state, source_file, source_row FROM orders "
                        "WHERE source_row = 1").fetchone()
    assert first == ("US-2019-103800", pd.Timestamp("2019-01-03").date(), "Texas", "orders.csv.gz", 1)
    by_region = dict(con.execute("SELECT region, count(*) FROM orders GROUP BY region").fetchall())
    assert by_region == expected["Region"].value_counts().to_dict()


def test_superstore_returns_load_into_returns(con, superstore):
    report = ingest_file(con, superstore / "returns.csv")
    assert (report.layout, report.rows_loaded, report.rows_quarantined) == ("returns", 800, 0)
    assert con.execute("SELECT count(DISTINCT order_id) FROM returns").fetchone()[0] == 296
    assert con.execute("SELECT kind FROM ingested_files").fetchall() == [("returns",)]


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
def test_canonical_formats_load_every_row(con, tmp_path, suffix):
    frame = canonical_rows()
    path = tmp_path / f"sales{suffix}"
    if suffix == ".parquet":
        typed = frame.assign(order_date=pd.to_datetime(frame.order_date).dt.date,
                             ship_date=pd.to_datetime(frame.ship_date),
                             quantity=frame.quantity.astype(int), sales=frame.sales.astype(float))
        typed.to_parquet(path)
    else:
        frame.to_csv(path, index=False, compression="gzip" if suffix == ".csv.gz" else None)
    report = ingest_file(con, path)
    assert (report.layout, report.rows_loaded, report.rows_quarantined) == ("canonical", 6, 0)
    loaded = con.execute(f"SELECT {', '.join(CANONICAL_COLUMNS)}, source_row FROM orders "
                         "ORDER BY source_row").df()
    assert loaded.source_row.tolist() == [1, 2, 3, 4, 5, 6]
    assert loaded.sales.round(2).tolist() == frame.sales.astype(float).tolist()
    assert loaded.profit.tolist() == frame.profit.astype(float).tolist()
    assert loaded.quantity.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert str(loaded.order_date[0])[:10] == "2024-03-01" and str(loaded.ship_date[5])[:10] == "2024-03-08"
    assert set(loaded.rep_name) == {"Ann Lee"} and set(loaded.channel) == {"Online"}


def test_optional_columns_may_be_absent_and_us_dates_parse(con, tmp_path):
    frame = canonical_rows(2).drop(columns=["rep_id", "rep_name", "channel"])
    frame["order_date"] = ["3/1/2024", "12/31/2023"]
    frame.to_csv(tmp_path / "us.csv", index=False)
    assert ingest_file(con, tmp_path / "us.csv").rows_loaded == 2
    rows = con.execute(
        "SELECT CAST(order_date AS VARCHAR), rep_id FROM orders ORDER BY source_row").fetchall()
    assert rows == [("2024-03-01", None), ("2023-12-31", None)]


def test_same_content_is_ingested_once_even_under_another_name(con, tmp_path):
    path = tmp_path / "a.csv"
    canonical_rows().to_csv(path, index=False)
    assert not ingest_file(con, path).duplicate
    before = counts(con)
    shutil.copy(path, tmp_path / "b.csv")
    again, copy = ingest_file(con, path), ingest_file(con, tmp_path / "b.csv")
    assert again.duplicate and copy.duplicate and copy.rows_loaded == 0
    assert counts(con) == before == {"orders": 6, "returns": 0, "ingested_files": 1, "quarantine": 0}


def test_malformed_rows_are_quarantined_with_row_numbers_and_reasons(con, tmp_path):
    frame = canonical_rows(8)
    frame.loc[1, "order_date"] = "abc"
    frame.loc[3, "sales"] = "n/a"
    frame.loc[4, "customer_id"] = ""
    frame.loc[5, "ship_date"] = "2024-13-45"
    frame.loc[5, "quantity"] = "two"
    lines = frame.to_csv(index=False).splitlines()
    lines[7] += ",surplus field"  # data row 7 has one field too many
    path = tmp_path / "broken.csv"
    path.write_text("\n".join(lines) + "\n")

    report = ingest_file(con, path)

    assert (report.rows_loaded, report.rows_quarantined) == (3, 5)
    assert [r[0] for r in con.execute("SELECT source_row FROM orders ORDER BY 1").fetchall()] == [1, 3, 8]
    bad = quarantine(con)
    assert [(r[0], r[1]) for r in bad] == [("broken.csv", n) for n in (2, 4, 5, 6, 7)]
    reasons = {r[1]: r[2] for r in bad}
    assert reasons[2] == "order_date 'abc' is not a date"
    assert reasons[4] == "sales 'n/a' is not a number"
    assert reasons[5] == "missing customer_id"
    assert reasons[6] == "ship_date '2024-13-45' is not a date; quantity 'two' is not a number"
    assert reasons[7].startswith("wrong number of fields")
    assert json.loads(bad[0][3])["order_date"] == "abc"
    assert json.loads(bad[4][3])["csv_line"].endswith("surplus field")
    assert report.rows_loaded + report.rows_quarantined == len(frame)  # nothing lost


def test_parquet_bad_values_are_quarantined(con, tmp_path):
    frame = canonical_rows(3)
    frame.loc[2, "discount"] = "ten percent"
    frame.loc[0, "product_id"] = None
    frame.to_parquet(tmp_path / "p.parquet")
    report = ingest_file(con, tmp_path / "p.parquet")
    assert (report.rows_loaded, report.rows_quarantined) == (1, 2)
    assert [(r[1], r[2]) for r in quarantine(con)] == [
        (1, "missing product_id"), (3, "discount 'ten percent' is not a number")]


def test_missing_columns_reject_the_whole_file(con, tmp_path):
    path = tmp_path / "thin.csv"
    canonical_rows().drop(columns=["ship_date", "profit"]).to_csv(path, index=False)
    with pytest.raises(MissingColumnsError, match="ship_date, profit; the canonical layout needs"):
        ingest_file(con, path)
    assert counts(con) == dict.fromkeys(TABLES, 0)


def test_superstore_file_missing_columns_names_them_in_superstore_terms(con, tmp_path, superstore):
    frame = pd.read_csv(superstore / "orders.csv.gz", nrows=5).drop(columns=["Profit", "Order Date"])
    frame.to_csv(tmp_path / "thin.csv", index=False)
    with pytest.raises(MissingColumnsError) as err:
        ingest_file(con, tmp_path / "thin.csv")
    assert "Order Date, Profit" in str(err.value) and "semantic layer order_lines" in str(err.value)
    assert counts(con) == dict.fromkeys(TABLES, 0)


def test_unrelated_header_is_rejected_naming_what_was_found(con, tmp_path):
    (tmp_path / "other.csv").write_text("alpha,beta\n1,2\n")
    with pytest.raises(MissingColumnsError, match="no sales columns in header alpha, beta"):
        ingest_file(con, tmp_path / "other.csv")


def truncated_gzip_csv() -> bytes:
    """A canonical .csv.gz cut off half-way (an interrupted copy)."""
    packed = gzip.compress(canonical_rows(2_000).to_csv(index=False).encode())
    return packed[: len(packed) // 2]


@pytest.mark.parametrize("name, content", [
    ("garbage.csv", bytes(range(256)) * 20),
    ("truncated.csv.gz", truncated_gzip_csv()),
    ("not-gzip.csv.gz", b"order_id,order_date\n1,2024-01-01\n"),
    ("broken.parquet", b"PAR1 this is not parquet"),
    ("empty.csv", b""),
])
def test_unreadable_files_raise_one_clear_line(con, tmp_path, name, content):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(UnreadableFileError) as err:
        ingest_file(con, tmp_path / name)
    assert str(err.value).startswith(name) and "\n" not in str(err.value)
    assert counts(con) == dict.fromkeys(TABLES, 0)


def test_a_crash_mid_file_leaves_the_warehouse_as_it_was(con, tmp_path):
    canonical_rows().to_csv(tmp_path / "first.csv", index=False)
    ingest_file(con, tmp_path / "first.csv")
    second = canonical_rows(4).assign(order_id=lambda f: f.order_id + "-b")
    second.loc[0, "sales"] = "oops"
    second.to_csv(tmp_path / "second.csv", index=False)
    before = counts(con)

    def crash(stage: str) -> None:
        if stage == "recorded":  # after orders, quarantine and ingested_files were written
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        ingest_file(con, tmp_path / "second.csv", on_stage=crash)
    assert counts(con) == before
    report = ingest_file(con, tmp_path / "second.csv")
    assert (report.rows_loaded, report.rows_quarantined, report.duplicate) == (3, 1, False)


def test_drop_folder_loads_good_files_and_reports_rejected_ones(con, tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    canonical_rows().to_csv(drop / "a_sales.csv", index=False)
    canonical_rows().drop(columns=["profit"]).to_csv(drop / "b_thin.csv", index=False)
    canonical_rows(2).assign(order_id=["X-1", "X-2"]).to_parquet(drop / "c_sales.parquet")
    with gzip.open(drop / "d_returns.csv.gz", "wt") as f:
        f.write("order_id\nO-1\n")
    (drop / "notes.txt").write_text("not a sales file")
    assert [p.name for p in pending_files(con, drop)] == [
        "a_sales.csv", "b_thin.csv", "c_sales.parquet", "d_returns.csv.gz"]

    messages: list[str] = []
    results = ingest_drop_folder(con, drop, progress=messages.append)

    assert [r.file.name for r in results] == [
        "a_sales.csv", "b_thin.csv", "c_sales.parquet", "d_returns.csv.gz"]
    assert isinstance(results[1], IngestFailure) and "profit" in results[1].error
    assert [r.rows_loaded for r in results if isinstance(r, IngestReport)] == [6, 2, 1]
    assert len(messages) == 4 and "rejected" in messages[1]
    assert [p.name for p in pending_files(con, drop)] == ["b_thin.csv"]
    assert (drop / "a_sales.csv").exists()  # files stay; re-running adds nothing
    before = counts(con)
    again = ingest_drop_folder(con, drop)
    assert [r.duplicate for r in again if isinstance(r, IngestReport)] == [True, True, True]
    assert counts(con) == before


def test_pending_files_notices_changed_content(con, tmp_path):
    path = tmp_path / "sales.csv"
    canonical_rows().to_csv(path, index=False)
    ingest_file(con, path)
    assert pending_files(con, tmp_path) == []
    canonical_rows(3).to_csv(path, index=False)
    assert pending_files(con, tmp_path) == [path]
    assert pending_files(con, tmp_path / "missing") == []

