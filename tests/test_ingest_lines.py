"""Order-line identity: upserts by line key, cumulative exports, duplicate lines, the 007 backfill."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.conftest import SUPERSTORE_ORDERS
from tests.test_ingest import canonical_rows, counts, quarantine
from warehouse.storage.ingest import IngestReport, ingest_file
from warehouse.storage.schema import MIGRATIONS, migrate


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    migrate(connection)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def superstore_text() -> pd.DataFrame:
    """The real Superstore lines as the text they are exported as."""
    if not SUPERSTORE_ORDERS.exists():
        pytest.skip(f"{SUPERSTORE_ORDERS} not found (tests read ../shared beside the checkout)")
    return pd.read_csv(SUPERSTORE_ORDERS, dtype=str, keep_default_na=False)


def totals(con) -> tuple[int, float, float, float]:
    """Lines, revenue, units and profit in ``orders``."""
    return con.execute("SELECT count(*), sum(sales), sum(quantity), sum(profit) FROM orders").fetchone()


def frame_totals(frame: pd.DataFrame) -> tuple:
    """The same figures from an independent pandas read, as approximate numbers."""
    return (len(frame), *(pytest.approx(frame[c].astype(float).sum(), abs=1e-6)
                          for c in ("Sales", "Quantity", "Profit")))


def export(frame: pd.DataFrame, first: str, last: str) -> pd.DataFrame:
    """The lines ordered between two days, in file order: a 'last N days' export."""
    return frame[(frame["Order Date"] >= first) & (frame["Order Date"] <= last)]


@pytest.mark.parametrize("with_row_id", [True, False], ids=["row-id", "declared-key"])
def test_cumulative_exports_count_each_line_once(con, tmp_path, superstore_text, with_row_id):
    first = export(superstore_text, "2022-12-01", "2022-12-07")
    second = export(superstore_text, "2022-12-04", "2022-12-10").copy()
    overlap = export(superstore_text, "2022-12-04", "2022-12-07")
    assert len(overlap) > 20 and not second.drop(columns="Row ID").duplicated().any()
    corrected = overlap.index[3]
    second.loc[corrected, "Sales"] = "1000.5"  # a correction of a line the first file had
    if not with_row_id:
        first, second = first.drop(columns="Row ID"), second.drop(columns="Row ID")
    first.to_csv(tmp_path / "orders-week-1.csv", index=False)
    second.to_csv(tmp_path / "orders-week-2.csv", index=False)

    one = ingest_file(con, tmp_path / "orders-week-1.csv")
    assert totals(con) == frame_totals(first)
    two = ingest_file(con, tmp_path / "orders-week-2.csv")

    union = pd.concat([first.drop(index=overlap.index), second])
    assert (one.rows_loaded, one.rows_skipped_known, one.rows_replaced) == (len(first), 0, 0)
    assert (two.rows_loaded, two.rows_skipped_known, two.rows_replaced, two.rows_quarantined) == (
        len(second) - len(overlap), len(overlap) - 1, 1, 0)
    assert totals(con) == frame_totals(union)  # not first + second: the overlap counts once
    assert totals(con)[1] < pd.concat([first, second])["Sales"].astype(float).sum() - 1
    stored = con.execute("SELECT sales, source_file FROM orders WHERE order_id = ? AND product_id = ?",
                         [second.loc[corrected, "Order ID"], second.loc[corrected, "Product ID"]]).fetchall()
    assert (1000.5, "orders-week-2.csv") in stored
    assert con.execute("SELECT count(DISTINCT line_key) = count(*) FROM orders").fetchone()[0]


def test_a_line_seen_before_is_skipped_or_replaced_and_new_ones_load(con, tmp_path):
    canonical_rows(6).to_csv(tmp_path / "a.csv", index=False)
    ingest_file(con, tmp_path / "a.csv")
    later = canonical_rows(8)
    later.loc[1, "profit"] = "99.50"     # corrected
    later.loc[2, "customer_name"] = "Customer 2b"  # corrected
    later.to_csv(tmp_path / "b.csv", index=False)
    report = ingest_file(con, tmp_path / "b.csv")
    assert report == IngestReport(tmp_path / "b.csv", "canonical", 2, 0,
                                  rows_skipped_known=4, rows_replaced=2)
    rows = con.execute("SELECT product_id, profit, customer_name, source_file FROM orders "
                       "ORDER BY product_id").fetchall()
    assert len(rows) == 8
    assert rows[1] == ("P-1", 99.5, "Customer 1", "b.csv") and rows[2][2:] == ("Customer 2b", "b.csv")
    assert rows[0][3] == "a.csv"  # an identical line keeps its first source


def test_exact_duplicate_lines_in_one_file_are_quarantined_with_row_numbers(con, tmp_path):
    frame = canonical_rows(4)
    frame = pd.concat([frame, frame.iloc[[1]], frame.iloc[[1]], frame.iloc[[3]]], ignore_index=True)
    frame.to_csv(tmp_path / "dups.csv", index=False)
    report = ingest_file(con, tmp_path / "dups.csv")
    assert (report.rows_loaded, report.rows_quarantined) == (4, 3)
    assert [(r[1], r[2]) for r in quarantine(con)] == [
        (5, "duplicate line: same as row 2"), (6, "duplicate line: same as row 2"),
        (7, "duplicate line: same as row 4")]
    assert totals(con)[1] == pytest.approx(frame.sales.astype(float).iloc[:4].sum())


def test_same_order_and_product_twice_are_two_lines_and_stay_two(con, tmp_path):
    frame = canonical_rows(3)
    frame.loc[2, ["order_id", "product_id"]] = frame.loc[1, ["order_id", "product_id"]].to_numpy()
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.to_csv(tmp_path / "b.csv", index=False, lineterminator="\r\n")  # same lines, other bytes
    ingest_file(con, tmp_path / "a.csv")
    again = ingest_file(con, tmp_path / "b.csv")
    assert (again.rows_loaded, again.rows_skipped_known, again.rows_replaced) == (0, 3, 0)
    keys = [r[0] for r in con.execute("SELECT line_key FROM orders ORDER BY source_row").fetchall()]
    assert keys == ['op:["O-1","P-0"]#1', 'op:["O-1","P-1"]#1', 'op:["O-1","P-1"]#2']


def test_a_repeated_line_id_is_quarantined_and_ids_key_the_lines(con, tmp_path):
    frame = canonical_rows(4).assign(line_id=["10", "11", "12", "11"])
    frame.to_csv(tmp_path / "ids.csv", index=False)
    report = ingest_file(con, tmp_path / "ids.csv")
    assert (report.rows_loaded, report.rows_quarantined) == (3, 1)
    assert quarantine(con)[0][1:3] == (4, "duplicate line_id '11' (first at row 2)")
    assert sorted(r[0] for r in con.execute("SELECT line_key FROM orders").fetchall()) == [
        "id:10", "id:11", "id:12"]


def test_line_ids_recognise_lines_loaded_without_them(con, tmp_path):
    canonical_rows(4).to_csv(tmp_path / "plain.csv", index=False)
    ingest_file(con, tmp_path / "plain.csv")
    canonical_rows(5).assign(line_id=["1", "2", "3", "4", "5"]).to_csv(tmp_path / "ids.csv", index=False)
    report = ingest_file(con, tmp_path / "ids.csv")
    assert (report.rows_loaded, report.rows_skipped_known, report.rows_replaced) == (1, 4, 0)
    assert counts(con)["orders"] == 5


def _warehouse_at_006(con) -> None:
    """A warehouse as Offpeak left it before migration 007 (no line keys)."""
    con.execute("CREATE TABLE schema_migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP)")
    for name, sql in MIGRATIONS[:6]:
        con.execute(sql)
        con.execute("INSERT INTO schema_migrations VALUES (?, now())", [name])


def test_migration_007_backfills_keys_that_the_new_ingest_recognises(tmp_path):
    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    _warehouse_at_006(con)
    frame = canonical_rows(5)
    frame.loc[4, ["order_id", "product_id"]] = frame.loc[3, ["order_id", "product_id"]].to_numpy()
    frame.to_csv(tmp_path / "week.csv", index=False)
    typed = pd.read_csv(tmp_path / "week.csv", parse_dates=["order_date", "ship_date"])
    typed["source_row"] = range(1, 6)
    con.register("typed", typed)
    for file_name in ("week.csv", "week-again.csv"):  # the old ingest loaded the same lines twice
        con.execute(f"INSERT INTO orders SELECT * EXCLUDE (source_row), '{file_name}', source_row FROM typed")
    con.unregister("typed")
    assert con.execute("SELECT count(*) FROM orders").fetchone()[0] == 10

    assert migrate(con)[0] == "007_order_line_keys"
    assert con.execute("SELECT count(*), count(line_key), count(DISTINCT line_key) "
                       "FROM orders").fetchone() == (5, 5, 5)
    report = ingest_file(con, tmp_path / "week.csv")
    assert (report.rows_loaded, report.rows_skipped_known, report.rows_replaced) == (0, 5, 0)
    con.close()
