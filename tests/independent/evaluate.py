"""Run `offpeak backtest` on an independent log and recompute every served answer with pandas.

    .venv/bin/python -m tests.independent.evaluate --seed 7 --seed 11 --seed 23 \\
        --from 2022-03-01 --to 2022-08-31 --out /tmp/independent-check     # ~5.5 min on 2 cores

Per seed, OUT/seed-N/ holds users.csv, log.csv, truth.csv and the backtest's questions.csv; OUT
holds judged.csv (every question with its verdict) and wrong.csv (question, product answer, true
value, what differed). Prints the table.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from tests.independent.check import Checker
from tests.independent.generate_log import ORDERS, generate, load_orders, write
from tests.independent.truth import Oracle

ROOT = Path(__file__).resolve().parents[2]
OFFPEAK = ROOT / ".venv" / "bin" / "offpeak"


@dataclass(frozen=True)
class Run:
    """One evaluation: where the files are and which days were replayed."""

    out: Path
    start: date
    end: date
    seed: int
    orders: Path = ORDERS


def run_backtest(run: Run, *, timeout_s: int = 1800) -> float:
    """Generate the files and run the product's backtest on them; return its wall seconds."""
    personas, truth = generate(load_orders(run.orders), seed=run.seed, start=date(2021, 10, 1),
                               end=run.end)
    write(run.out, personas, truth)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    with tempfile.TemporaryDirectory(prefix="offpeak-home-") as home:
        env["OFFPEAK_HOME"] = home
        began = time.monotonic()
        done = subprocess.run(
            [str(OFFPEAK), "backtest", "--orders", str(run.orders), "--users",
             str(run.out / "users.csv"), "--log", str(run.out / "log.csv"), "--from",
             run.start.isoformat(), "--to", run.end.isoformat(), "--out", str(run.out / "backtest")],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout_s)
        seconds = time.monotonic() - began
    if done.returncode != 0:
        raise RuntimeError(f"offpeak backtest failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds


def is_served(frame: pd.DataFrame) -> pd.Series:
    """Rows something served: pre-computed, live SQL or learned (``served_by``; older files: ``hit``)."""
    if "served_by" in frame:
        return frame["served_by"].ne("missed") & frame["served_by"].ne("")
    return frame["hit"] == "True"


def judge_all(run: Run) -> pd.DataFrame:
    """questions.csv joined with truth.csv, one verdict per question ('not served' for misses)."""
    asked = pd.read_csv(run.out / "backtest" / "questions.csv", dtype=str, keep_default_na=False)
    truth = pd.read_csv(run.out / "truth.csv", dtype=str, keep_default_na=False)
    truth["key"] = truth["user_id"] + "|" + truth["asked_at"].str.replace(" ", "T")
    asked["key"] = asked["user_id"] + "|" + asked["asked_at"].str.replace(" ", "T").str[:19]
    joined = asked.merge(truth.drop(columns=["user_id", "asked_at", "question"]), on="key",
                         how="left", validate="one_to_one")
    if joined["qid"].eq("").any() or joined["qid"].isna().any():
        raise RuntimeError("a backtest question has no truth row (log and truth out of step)")
    checker = Checker(Oracle(load_orders(run.orders), run.orders.parent / "returns.csv"))
    out: dict[str, list[str]] = {"verdict": [], "reasons": [], "true_value": [], "notes": []}
    for row, served in zip(joined.to_dict("records"), is_served(joined)):
        v = checker.judge(row, row["answer_text"]) if served else None
        out["verdict"].append(v.verdict if v else "not served")
        out["reasons"].append(" | ".join(v.reasons) if v else "")
        out["true_value"].append(v.true_value if v else "")
        out["notes"].append(" | ".join(v.notes) if v else "")
    return joined.assign(**out)


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f} %" if whole else "n/a"


def summary(judged: pd.DataFrame) -> dict[str, int]:
    """The headline counts."""
    served_mask = is_served(judged)
    served = judged[served_mask]
    unanswerable = judged["shape"] == "unanswerable"
    by = judged["served_by"] if "served_by" in judged else judged["hit"].map({"True": "precomputed"})
    return {"questions": len(judged), "served": len(served),
            "served_precomputed": int((by == "precomputed").sum()), "served_live_sql": int((by == "live_sql").sum()),
            "served_learned": int((by == "learned").sum()),
            "right": int((served["verdict"] == "right").sum()),
            "wrong": int((served["verdict"] == "wrong").sum()),
            "not_checkable": int((served["verdict"] == "not-checkable").sum()),
            "unanswerable_asked": int(unanswerable.sum()),
            "unanswerable_served": int((unanswerable & served_mask).sum()),
            "incomplete": int(((served["verdict"] == "right") & (served["notes"] != "")).sum())}


def table(judged: pd.DataFrame) -> str:
    """The report table (markdown), overall and per question shape."""
    s = summary(judged)
    lines = ["| | count | share |", "|---|---:|---:|",
             f"| questions (all next-day) | {s['questions']} | |",
             f"| served | {s['served']} | {_pct(s['served'], s['questions'])} of questions |",
             f"| … pre-computed / live SQL / learned | {s['served_precomputed']} / {s['served_live_sql']} / "
             f"{s['served_learned']} | |",
             f"| served, right numbers | {s['right']} | "
             f"{_pct(s['right'], s['questions'])} of questions |",
             f"| … of which a breakdown silently leaves members out | {s['incomplete']} | |",
             f"| served, wrong numbers (incl. unanswerable served) | {s['wrong']} | "
             f"{_pct(s['wrong'], s['served'])} of served |",
             f"| served, not checkable | {s['not_checkable']} | "
             f"{_pct(s['not_checkable'], s['served'])} of served |",
             f"| unanswerable asked / served (wrong) | {s['unanswerable_asked']} / "
             f"{s['unanswerable_served']} | |", "",
             "| shape | questions | served | right | wrong | not checkable |",
             "|---|---:|---:|---:|---:|---:|"]
    for shape, g in judged.groupby("shape"):
        c = Counter(g["verdict"])
        lines.append(f"| {shape} | {len(g)} | {len(g) - c['not served']} | {c['right']} | "
                     f"{c['wrong']} | {c['not-checkable']} |")
    return "\n".join(lines)


def _reason_tag(reasons: str) -> str:
    return reasons.split(":", 1)[0] if reasons else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, action="append",
                        help="log seed; repeat for several independent logs (default 7, 11, 23)")
    parser.add_argument("--from", dest="start", type=date.fromisoformat, default=date(2022, 3, 1))
    parser.add_argument("--to", dest="end", type=date.fromisoformat, default=date(2022, 8, 31))
    parser.add_argument("--orders", type=Path, default=ORDERS)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--judge-only", action="store_true",
                        help="re-judge the files already in --out (no generation, no backtest)")
    args = parser.parse_args(argv)
    frames = []
    for seed in args.seed or [7, 11, 23]:
        run = Run(args.out / f"seed-{seed}", args.start, args.end, seed, args.orders)
        seconds = 0.0 if args.judge_only else run_backtest(run)
        print(f"seed {seed}: replayed {run.start}..{run.end}, backtest {seconds:.0f} s")
        frames.append(judge_all(run).assign(seed=seed))
    judged = pd.concat(frames, ignore_index=True).drop(columns=["key"])
    judged.to_csv(args.out / "judged.csv", index=False)
    wrong = judged[judged["verdict"] == "wrong"]
    wrong[["seed", "qid", "user_id", "asked_at", "habit", "question", "shape", "metric", "start",
           "end", "answer_text", "true_value", "reasons", "answer_id"]].to_csv(
        args.out / "wrong.csv", index=False, quoting=csv.QUOTE_MINIMAL)
    print(table(judged))
    print("\nwrong answers by what differed (answers / distinct questions):")
    tags = wrong.assign(tag=wrong["reasons"].map(_reason_tag),
                        what=wrong["seed"].astype(str) + wrong["habit"].where(
                            wrong["habit"] != "one-off", wrong["qid"]))
    for tag, g in tags.groupby("tag"):
        print(f"  {tag}: {len(g)} / {g['what'].nunique()}")
    print(f"wrong answers: {args.out / 'wrong.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
