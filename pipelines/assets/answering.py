"""Answer every distinct question once: facts from SQL, narratives from the cascade, briefings."""


import json

import pandas as pd
from dagster import AssetExecutionContext, MaterializeResult, asset

from pipelines.assets.prediction import forecast, question_instances
from pipelines.partitions import morning_after, night_of, nights_partitions
from pipelines.resources.energy import EnergyMeterResource
from pipelines.resources.llm import AnswerWriterResource
from pipelines.resources.warehouse import WRITER_POOL, WarehouseResource
from pipelines.runs import recorded
from warehouse.night.answer_types import AnswerRequest
from warehouse.semantic.catalogue import CATALOGUE
from warehouse.semantic.facts import Facts
from warehouse.night.plan import PlannedInstance, briefing_rows, compute_all_facts, template_answers
from warehouse.forecasting.forecast import Prediction
from warehouse.storage.schema import replace_night_rows

_COMMON = {"partitions_def": nights_partitions, "pool": WRITER_POOL, "group_name": "answering"}


def _load_facts(con, night) -> dict[str, Facts]:
    rows = con.execute("""SELECT f.instance_key, i.intent_id, i.params, f.key_figures, f.result
                          FROM facts f JOIN question_instances i USING (night, instance_key)
                          WHERE f.night = ?""", [night]).fetchall()
    out = {}
    for key, intent_id, params, figures, result in rows:
        stored = json.loads(result)
        out[key] = Facts(intent_id, json.loads(params), json.loads(figures), stored["rows"], stored["chart"])
    return out


@asset(deps=[question_instances], **_COMMON)
def facts(context: AssetExecutionContext, warehouse: WarehouseResource,
          energy: EnergyMeterResource) -> MaterializeResult:
    """Parameterised SQL on DuckDB for every distinct instance: key figures and small tables."""
    night = night_of(context.partition_key)
    with warehouse.connect() as con, recorded(context, con, energy, "facts") as step:
        planned = {k: PlannedInstance(k, i, json.loads(p)) for k, i, p in con.execute(
            "SELECT instance_key, intent_id, params FROM question_instances WHERE night = ?", [night]).fetchall()}
        found = compute_all_facts(con, planned, morning_after(night), progress=context.log.info)
        frame = pd.DataFrame([{"night": night, "instance_key": k, "numbers": json.dumps(f.numbers),
                               "result": json.dumps({"rows": f.rows, "chart": f.chart_data}, default=str),
                               "key_figures": json.dumps(f.key_figures, default=str), "sql_ms": None}
                              for k, f in found.items()])
        replace_night_rows(con, "facts", night, frame)
        step.counts.update(instances=len(found), items=len(found))
    return step.result()


@asset(deps=[facts], **_COMMON)
def answers(context: AssetExecutionContext, warehouse: WarehouseResource, energy: EnergyMeterResource,
            answer_writer: AnswerWriterResource) -> MaterializeResult:
    """Narratives in a cascade: tier 0 templates, an LLM only where the router sends it; every
    LLM narrative passes the grounding guard or falls back to tier 0."""
    night = night_of(context.partition_key)
    with warehouse.connect() as con, recorded(context, con, energy, "answers") as step:
        found = _load_facts(con, night)
        frame = template_answers(night, found)
        if len(frame):
            requests = [AnswerRequest(answer_id=row.answer_id, intent_id=row.intent_id,
                                      family=CATALOGUE[row.intent_id].family, question=row.question_text,
                                      facts=found[row.instance_key].key_figures, rows=found[row.instance_key].rows,
                                      numbers=found[row.instance_key].numbers, template_text=row.narrative)
                       for row in frame.itertuples()]
            report = answer_writer.write_answers(requests)
            drafts = {d.answer_id: d for d in report.drafts}
            for column in ("narrative", "tier", "model", "tokens_in", "tokens_out", "joules", "energy_method",
                           "grounded", "fallback_reason"):
                source = "text" if column == "narrative" else column
                frame[column] = [getattr(drafts[a], source) for a in frame["answer_id"]]
            _log_tiers(con, context, night, frame, report)
            llm_answers = sum(1 for d in report.drafts if d.tier > 0) + report.parse_failures + report.grounding_failures
            con.execute("DELETE FROM live_baseline WHERE night = ?", [night])  # a re-run measures anew
            if report.llm_calls:
                routed = [r for r in requests if answer_writer.route(r) > 0]
                baseline = answer_writer.measure_live_baseline(routed)
                con.execute("INSERT INTO live_baseline VALUES (?, ?, ?, ?, ?, ?, ?, ?, now())",
                            [night, baseline.model, baseline.method, baseline.answers, baseline.joules_per_answer,
                             baseline.seconds_per_answer, report.batch_joules / max(llm_answers, 1),
                             report.batch_seconds / max(llm_answers, 1)])
            step.counts.update(llm_calls=report.llm_calls, llm_answers=llm_answers,
                               parse_failures=report.parse_failures, grounding_failures=report.grounding_failures,
                               model=report.model or "none")
        replace_night_rows(con, "answers", night, frame)
        tiers = frame["tier"].value_counts().to_dict() if len(frame) else {}
        step.counts.update(answers=len(frame), items=len(frame),
                           **{f"tier_{int(t)}": int(n) for t, n in tiers.items()})
    return step.result()


def _log_tiers(con, context, night, frame: pd.DataFrame, report) -> None:
    """One energy_log row per tier of the batch (tier 0's cost is inside the asset's own row)."""
    llm = frame[frame["tier"] > 0]
    for tier, rows in llm.groupby("tier"):
        con.execute("INSERT INTO energy_log VALUES (?, ?, 'answers', ?, ?, ?, ?, ?, ?, now())",
                    [night, context.run.run_id, int(tier), report.energy_method, float(rows["joules"].sum()),
                     report.batch_seconds, len(rows), f"one batched call, model {report.model}"])


@asset(deps=[answers, forecast], **_COMMON)
def briefings(context: AssetExecutionContext, warehouse: WarehouseResource,
              energy: EnergyMeterResource) -> MaterializeResult:
    """Per user: their predicted answers in order, with why each was predicted."""
    night = night_of(context.partition_key)
    with warehouse.connect() as con, recorded(context, con, energy, "briefings") as step:
        predictions = [Prediction(u, i, json.loads(p), s, json.loads(r)) for u, i, p, s, r in con.execute(
            "SELECT user_id, intent_id, params, score, reasons FROM forecast WHERE night = ?", [night]).fetchall()]
        frame = briefing_rows(night, predictions)
        replace_night_rows(con, "briefings", night, frame)
        step.counts.update(users=frame["user_id"].nunique() if len(frame) else 0, cards=len(frame))
    return step.result()
