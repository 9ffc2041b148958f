"""Answer every distinct question once: facts from SQL, narratives from the cascade, briefings."""


import json
from collections import Counter

import pandas as pd
from dagster import AssetExecutionContext, MaterializeResult, asset

from pipelines.assets.prediction import forecast, question_instances
from pipelines.partitions import morning_after, night_of, nights_partitions
from pipelines.resources.energy import EnergyMeterResource
from pipelines.resources.llm import AnswerWriterResource
from pipelines.resources.warehouse import WRITER_POOL, WarehouseResource
from pipelines.runs import recorded
from warehouse.language.entities import EntityIndex
from warehouse.night.answer_types import AnswerRequest
from warehouse.night.backlog import (NOT_TRIED, UNPARSED, backlog_frame, judge_backlog, load_backlog,
                                     quality_row, spec_prompt)
from warehouse.semantic.catalogue import CATALOGUE
from warehouse.semantic.facts import Facts, compute_facts
from warehouse.storage.users import load_users
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
    LLM narrative passes the grounding guard or falls back to tier 0. The backlog's query-spec
    prompts ride in the same batch; accepted specs are answered overnight (tier 0)."""
    night = night_of(context.partition_key)
    with warehouse.connect() as con, recorded(context, con, energy, "answers") as step:
        found = _load_facts(con, night)
        entities = EntityIndex.from_connection(con)
        backlog = load_backlog(con, night)
        prompts = [spec_prompt(item, entities, as_of=morning_after(night)) for item in backlog]
        frame = template_answers(night, found)
        requests = [AnswerRequest(answer_id=row.answer_id, intent_id=row.intent_id,
                                  family=CATALOGUE[row.intent_id].family, question=row.question_text,
                                  facts=found[row.instance_key].key_figures, rows=found[row.instance_key].rows,
                                  numbers=found[row.instance_key].numbers, template_text=row.narrative)
                    for row in frame.itertuples()]
        report = answer_writer.write_answers(requests, prompts) if requests or prompts else None
        if report is not None and len(frame):
            drafts = {d.answer_id: d for d in report.drafts}
            for column in ("narrative", "tier", "model", "tokens_in", "tokens_out", "joules", "energy_method",
                           "grounded", "fallback_reason"):
                source = "text" if column == "narrative" else column
                frame[column] = [getattr(drafts[a], source) for a in frame["answer_id"]]
            _log_tiers(con, context, night, frame, report)
        con.execute("DELETE FROM live_baseline WHERE night = ?", [night])  # a re-run measures anew
        if report is not None and report.llm_calls:
            llm_answers = sum(1 for d in report.drafts if d.tier > 0) + report.parse_failures + report.grounding_failures
            routed = [r for r in requests if answer_writer.route(r) > 0]
            baseline = answer_writer.measure_live_baseline(routed)
            narrative_joules = report.batch_joules - report.extra_joules
            con.execute("INSERT INTO live_baseline VALUES (?, ?, ?, ?, ?, ?, ?, ?, now())",
                        [night, baseline.model, baseline.method, baseline.answers, baseline.joules_per_answer,
                         baseline.seconds_per_answer, narrative_joules / max(llm_answers, 1),
                         report.batch_seconds / max(llm_answers + len(prompts), 1)])
            step.counts.update(llm_calls=report.llm_calls, llm_answers=llm_answers,
                               parse_failures=report.parse_failures, grounding_failures=report.grounding_failures,
                               model=report.model or "none")
        results = judge_backlog(backlog, report.extra_replies if report else {}, entities,
                                {u.user_id: u for u in load_users(con)}, asked_on=morning_after(night))
        overnight = {r.key: compute_facts(con, r.intent_id, r.params, morning_after(night))
                     for r in results if r.key and r.key not in found}
        if overnight:    # answered overnight from an accepted spec: tier-0 text, like any instance
            frame = pd.concat([frame, template_answers(night, overnight)], ignore_index=True)
        replace_night_rows(con, "backlog_results", night,
                           backlog_frame(night, results, report.extra_model if report else None))
        quality = _quality_rows(night, report, results)
        replace_night_rows(con, "llm_quality", night, pd.DataFrame(quality))
        step.counts.update(backlog_questions=len(backlog), backlog_answered_overnight=sum(bool(r.key) for r in results),
                           **{f"backlog_{k}": v for k, v in Counter(r.status for r in results).items()},
                           **{f"{q['kind']}_parse_failure_rate": q["parse_failure_rate"] for q in quality})
        replace_night_rows(con, "answers", night, frame)
        tiers = frame["tier"].value_counts().to_dict() if len(frame) else {}
        step.counts.update(answers=len(frame), items=len(frame),
                           **{f"tier_{int(t)}": int(n) for t, n in tiers.items()})
    return step.result()


def _quality_rows(night, report, results) -> list[dict]:
    """The night's LLM replies per kind: narratives (parsed = not a parse failure, kept = passed
    the guard) and backlog specs (parsed = a valid spec, kept = accepted)."""
    if report is None or not report.llm_calls:
        return []
    kept = sum(1 for d in report.drafts if d.tier > 0)
    narratives = kept + report.parse_failures + report.grounding_failures
    tried = [r for r in results if r.status != NOT_TRIED]
    rows = []
    if narratives:
        rows.append(quality_row(night, "narrative", model=report.model, replies=narratives,
                                parsed=narratives - report.parse_failures, kept=kept))
    if tried:
        rows.append(quality_row(night, "query_spec", model=report.extra_model, replies=len(tried),
                                parsed=sum(r.status != UNPARSED for r in tried),
                                kept=sum(r.status == "accepted" for r in tried)))
    return rows


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
        overnight = con.execute("""SELECT user_id, answer_id, question FROM backlog_results
                                   WHERE night = ? AND answer_id IS NOT NULL ORDER BY asked_at""", [night]).fetchall()
        frame = briefing_rows(night, predictions, overnight)
        replace_night_rows(con, "briefings", night, frame)
        step.counts.update(users=frame["user_id"].nunique() if len(frame) else 0, cards=len(frame),
                           answered_overnight=len(overnight))
    return step.result()
