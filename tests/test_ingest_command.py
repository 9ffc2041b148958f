"""``offpeak ingest FILE...``: one line per file, the asset's code path, exit 1 on a rejected file."""

from __future__ import annotations

import argparse
import duckdb
import pytest

from pipelines.ingest_command import add_ingest_parser, run_ingest
from tests.test_ingest import canonical_rows
from warehouse.storage.paths import offpeak_paths


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="offpeak")
    add_ingest_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["ingest", *argv])


def test_help_has_an_example(capsys):
    with pytest.raises(SystemExit) as exit_:
        parse("--help")
    out = capsys.readouterr().out
    assert exit_.value.code == 0 and "example:\n  offpeak ingest drop/orders-2026-11.csv" in out


def test_one_line_per_file_and_exit_1_when_a_file_is_rejected(tmp_path, capsys):
    paths = offpeak_paths(tmp_path / "home").ensure()
    week1, week2 = tmp_path / "orders-week-1.csv", tmp_path / "orders-week-2.csv"
    canonical_rows(6).to_csv(week1, index=False)
    later = canonical_rows(9)
    later.loc[0, "sales"] = "777.00"
    later.loc[8, "sales"] = "NaN"
    later.to_csv(week2, index=False)
    thin = tmp_path / "thin.csv"
    canonical_rows(2).drop(columns=["profit"]).to_csv(thin, index=False)
    latin = tmp_path / "latin.csv"
    latin.write_bytes(canonical_rows(2).assign(order_id=["L-1", "L-2"], city="Bogotá")
                      .to_csv(index=False).encode("cp1252"))

    code = run_ingest(parse(str(week1), str(week2), str(thin), str(week1), str(latin),
                            str(tmp_path / "missing.csv")), paths)

    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert lines == [
        f"{week1}: loaded 6, skipped as known 0, replaced 0, quarantined 0 (canonical, UTF-8)",
        f"{week2}: loaded 2, skipped as known 5, replaced 1, quarantined 1 (canonical, UTF-8)",
        f"{thin}: rejected: missing column(s) profit; the canonical layout needs " + ", ".join([
            "order_id", "order_date", "ship_date", "customer_id", "customer_name", "segment",
            "country", "region", "state", "city", "product_id", "category", "sub_category",
            "product_name", "quantity", "sales", "discount", "profit"]),
        f"{week1}: already ingested (same content), skipped",
        f"{latin}: loaded 2, skipped as known 0, replaced 0, quarantined 0 (canonical, Windows-1252)",
        f"{tmp_path / 'missing.csv'}: rejected: no such file",
    ]
    con = duckdb.connect(str(paths.warehouse_db), read_only=True)
    assert con.execute("SELECT count(*), sum(sales) FILTER (WHERE product_id = 'P-0' AND order_id = 'O-1'), "
                       "count(*) FILTER (WHERE city = 'Bogotá') FROM orders").fetchone() == (10, 777.0, 2)
    con.close()


def test_exit_0_when_every_file_loads_and_declared_formats_apply(tmp_path, capsys):
    paths = offpeak_paths(tmp_path / "home").ensure()
    eu = tmp_path / "eu.csv"
    eu.write_bytes(canonical_rows(2).assign(sales=["1.234,50", "2,25"], profit=["-5,25", "3"],
                                           discount="0,1", city="Köln")
                   .to_csv(index=False).encode("latin-1"))
    assert run_ingest(parse("--decimal-comma", "--encoding", "latin-1", str(eu)), paths) == 0
    assert capsys.readouterr().out == (
        f"{eu}: loaded 2, skipped as known 0, replaced 0, quarantined 0 (canonical, latin-1)\n")
