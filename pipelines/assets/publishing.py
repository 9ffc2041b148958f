"""Publish the night: savings of the day that just ended, then the immutable serving snapshot."""


import json
import os
from datetime import date, datetime, timedelta

import pandas as pd
from dagster import AssetDep, AssetExecutionContext, MaterializeResult, TimeWindowPartitionMapping, asset

from pipelines.assets.answering import answers, briefings
from pipelines.assets.sources import question_log
from pipelines.partitions import morning_after, night_of, nights_partitions
from pipelines.resources.embedder import EmbedderResource
from pipelines.resources.energy import EnergyMeterResource
from pipelines.resources.warehouse import WRITER_POOL, WarehouseResource
from pipelines.runs import recorded
from pipelines.window import Window, WindowConfig, choose_window
from warehouse.language.matcher import PHRASINGS_PER_ANSWER
from warehouse.semantic.catalogue import CATALOGUE, phrase
from warehouse.night.savings import Tariff, compute_savings, store_savings
from warehouse.storage.contract import SnapshotMeta, next_window
from warehouse.storage.schema import replace_night_rows
from warehouse.storage.semantic_layer import active_layer
from warehouse.storage.snapshot import current_snapshot, publish_snapshot

_COMMON = {"partitions_def": nights_partitions, "pool": WRITER_POOL, "group_name": "publishing"}


# savings[N] measures night N-1: its answers, read on day N (the day that just ended).
PREVIOUS_NIGHT = TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)


@asset(deps=[question_log, AssetDep(answers, partition_mapping=PREVIOUS_NIGHT)], **_COMMON)
def savings(context: AssetExecutionContext, warehouse: WarehouseResource, energy: EnergyMeterResource,
            embedder: EmbedderResource) -> MaterializeResult:
    """Live queries the previous night's answers avoided on the day that just ended, and the
    energy, money and CO2 that saved net of what the night cost (every estimate labelled).

    Partition N depends on ``answers[N-1]`` (a declared partition mapping) and writes night
    N-1's savings row; nothing else writes that row, so a re-run replaces it."""
    night = night_of(context.partition_key)
    window = choose_window(WindowConfig.from_env())
    tariff = Tariff(window.mean_price, window.peak_price, window.mean_carbon, window.peak_carbon)
    with warehouse.connect() as con, recorded(context, con, energy, "savings") as step:
        row = compute_savings(con, night - timedelta(days=1), tariff, embedder.encode)
        if row is None:
            step.counts.update(status="no answers the night before: nothing to measure yet")
        else:
            store_savings(con, row)
            step.counts.update(night_measured=str(row["night"]), questions=row["questions"], hits=row["hits"],
                               answers_computed=row["answers_computed"], answers_read=row["answers_read"],
                               net_joules=round(row["net_joules"], 1), method=row["method_note"])
    return step.result()


@asset(deps=[briefings, savings], **_COMMON)
def snapshot(context: AssetExecutionContext, warehouse: WarehouseResource, energy: EnergyMeterResource,
             embedder: EmbedderResource) -> MaterializeResult:
    """Embed each answer's phrasings, then publish an immutable serving file and swap CURRENT."""
    night = night_of(context.partition_key)
    paths = warehouse.paths
    window = choose_window(WindowConfig.from_env())
    with warehouse.connect() as con, recorded(context, con, energy, "snapshot") as step:
        rows = con.execute("SELECT answer_id, intent_id, params FROM answers WHERE night = ?", [night]).fetchall()
        texts = [(a, phrase(CATALOGUE[i], json.loads(p), v)) for a, i, p in rows for v in range(PHRASINGS_PER_ANSWER)]
        vectors = embedder.encode([t for _, t in texts]) if texts else []
        frame = pd.DataFrame({"night": night, "answer_id": [a for a, _ in texts], "text": [t for _, t in texts],
                              "embedding": [v.tolist() for v in vectors]})
        replace_night_rows(con, "answer_phrasings", night, frame)
        data_through = con.execute("SELECT max(order_date) FROM sales_facts WHERE order_date < ?",
                                   [morning_after(night)]).fetchall()[0][0]
        meta = _meta(context, night, data_through, window, embedder.model_name)
        path = publish_snapshot(con, paths.snapshots_dir, meta)
        current = current_snapshot(paths.snapshots_dir)
        step.counts.update(answers=len(rows), phrasings=len(texts), snapshot=path.name,
                           current=current.name if current else "none",
                           next_window_start=meta.next_window_start.isoformat())
    return step.result()


def _meta(context: AssetExecutionContext, night: date, data_through: date | None, window: Window,
          embedding_model: str) -> SnapshotMeta:
    """The snapshot's meta record: published now, the next window the first one after now."""
    published_at = datetime.now().astimezone()
    start, end = next_window(start_hour=window.start_hour, end_hour=window.end_hour,
                             timezone=window.timezone, after=published_at)
    return SnapshotMeta(
        night=night, as_of=morning_after(night), data_through=data_through, published_at=published_at,
        run_id=context.run.run_id, embedding_model=embedding_model, next_window_start=start,
        next_window_end=end, next_window_timezone=window.timezone, next_window_reason=window.reason,
        dagster_url=os.environ.get("OFFPEAK_DAGSTER_URL", "http://127.0.0.1:3000"),
        semantic_layer=active_layer().fingerprint)
