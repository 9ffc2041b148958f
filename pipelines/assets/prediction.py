"""What users will ask: data signals, the per-user forecast, and the de-duplicated instances."""


import json

import pandas as pd
from dagster import AssetExecutionContext, MaterializeResult, asset

from pipelines.assets.sources import question_log, sales_facts, users
from pipelines.partitions import morning_after, night_of, nights_partitions
from pipelines.resources.embedder import EmbedderResource
from pipelines.resources.energy import EnergyMeterResource
from pipelines.resources.warehouse import WRITER_POOL, WarehouseResource
from pipelines.runs import recorded
from warehouse.forecasting.economics import measured_costs
from warehouse.forecasting.forecast import ForecastConfig, Prediction, Signal, forecast_all
from warehouse.night.plan import load_history, plan_instances, understand_log, unmapped_backlog
from warehouse.storage.schema import replace_night_rows
from warehouse.forecasting.signals import compute_signals
from warehouse.language.understanding import EntityIndex
from warehouse.storage.users import load_users

_COMMON = {"partitions_def": nights_partitions, "pool": WRITER_POOL, "group_name": "prediction"}


@asset(deps=[sales_facts, users], **_COMMON)
def data_signals(context: AssetExecutionContext, warehouse: WarehouseResource,
                 energy: EnergyMeterResource) -> MaterializeResult:
    """What changed inside each user's scope: metrics beyond their usual band, closed periods."""
    night = night_of(context.partition_key)
    with warehouse.connect() as con, recorded(context, con, energy, "data_signals") as step:
        directory = load_users(con)
        found = compute_signals(con, [u.scope for u in directory], morning_after(night))
        frame = pd.DataFrame([{"night": night, "scope_key": s.scope_key, "signal": "trigger", "metric": s.metric,
                               "period": s.period, "value": s.strength, "baseline": None, "band": None,
                               "detail": s.detail, "filters": json.dumps(s.filters)} for s in found],
                             columns=["night", "scope_key", "signal", "metric", "period", "value", "baseline",
                                      "band", "detail", "filters"])
        replace_night_rows(con, "data_signals", night, frame)
        step.counts.update(scopes=len({u.scope for u in directory}), signals=len(found))
    return step.result(preview=frame.head(10).to_markdown() if len(frame) else "no signals")


@asset(deps=[question_log, data_signals], **_COMMON)
def forecast(context: AssetExecutionContext, warehouse: WarehouseResource,
             energy: EnergyMeterResource, embedder: EmbedderResource) -> MaterializeResult:
    """Per user: the questions they are likely to ask tomorrow, with probability and reasons;
    how many is an economic choice (see warehouse.forecasting.forecast)."""
    night = night_of(context.partition_key)
    target = morning_after(night)
    with warehouse.connect() as con, recorded(context, con, energy, "forecast") as step:
        directory = load_users(con)
        fresh, unmapped = understand_log(con, EntityIndex.from_connection(con))
        history = load_history(con, {u.user_id: u for u in directory}, before=target)
        signals = [Signal(k, m, p, d, v, json.loads(f or "{}")) for k, m, p, d, v, f in con.execute(
            "SELECT scope_key, metric, period, detail, value, filters FROM data_signals WHERE night = ?",
            [night]).fetchall()]
        costs = measured_costs(con, before=night)
        cfg = ForecastConfig(live_cost_joules=costs.live_joules, batch_cost_joules=costs.batch_joules)
        predictions = forecast_all(directory, history, signals, target, cfg)
        frame = pd.DataFrame([{
            "night": night, "user_id": p.user_id, "rank": 0, "instance_key": p.key, "intent_id": p.intent_id,
            "params": json.dumps(p.params, sort_keys=True), "score": p.probability,
            "hit_probability": p.probability, "reasons": json.dumps(list(dict.fromkeys(p.reasons)))}
            for p in predictions])
        if len(frame):
            frame["rank"] = frame.groupby("user_id")["score"].rank(method="first", ascending=False).astype(int)
        replace_night_rows(con, "forecast", night, frame)
        backlog = unmapped_backlog(con, night, embedder.encode)
        replace_night_rows(con, "unmapped_questions", night, backlog)
        step.counts.update(unmapped_recent=len(backlog), users=len(directory), history_questions=len(history), new_questions_understood=fresh,
                           new_questions_unmapped=unmapped, predictions=len(predictions),
                           expected_hits=round(sum(p.probability for p in predictions), 2),
                           live_cost_joules=round(costs.live_joules, 3), batch_cost_joules=round(costs.batch_joules, 4),
                           cost_method=costs.method)
    return step.result()


@asset(deps=[forecast], **_COMMON)
def question_instances(context: AssetExecutionContext, warehouse: WarehouseResource,
                       energy: EnergyMeterResource) -> MaterializeResult:
    """Distinct (intent, parameters) across ALL users: each is computed once."""
    night = night_of(context.partition_key)
    with warehouse.connect() as con, recorded(context, con, energy, "question_instances") as step:
        rows = con.execute("SELECT user_id, instance_key, intent_id, params FROM forecast WHERE night = ?",
                           [night]).fetchall()
        planned = plan_instances([Prediction(u, i, json.loads(p), 0.0) for u, _, i, p in rows])
        frame = pd.DataFrame([{"night": night, "instance_key": k, "intent_id": inst.intent_id,
                               "params": json.dumps(inst.params, sort_keys=True), "question_text": inst.question_text,
                               "n_users": len(inst.users)} for k, inst in planned.items()])
        replace_night_rows(con, "question_instances", night, frame)
        step.counts.update(predictions=len(rows), distinct_instances=len(planned),
                           dedup_ratio=round(len(rows) / max(len(planned), 1), 2))
    return step.result()
