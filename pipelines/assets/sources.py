"""Sources of a night: sales files, the users directory, the question log, typed sales facts.

None of these is partitioned: each holds the current state of an append-only or replaced
source (every order line loaded so far, the directory as it is now, every question logged), not
one night's slice. The nightly assets read them bounded by their own night's morning, so a re-run
of an old night reads the same rows as the first run did, unless new data arrived since.
"""


from dagster import AssetExecutionContext, MaterializeResult, asset

from pipelines.resources.energy import EnergyMeterResource
from pipelines.resources.warehouse import WRITER_POOL, WarehouseResource
from pipelines.runs import recorded
from warehouse.storage.events import ingest_spool
from warehouse.semantic.facts import build_sales_facts
from warehouse.storage.ingest import IngestFailure, describe_report, ingest_drop_folder
from warehouse.storage.question_log import ingest_question_logs
from warehouse.storage.users import read_users, store_users

_COMMON = {"pool": WRITER_POOL, "group_name": "sources"}


@asset(**_COMMON)
def orders(context: AssetExecutionContext, warehouse: WarehouseResource,
           energy: EnergyMeterResource) -> MaterializeResult:
    """Order lines from the drop folder (CSV, CSV.gz, Parquet); bad rows go to quarantine."""
    with warehouse.connect() as con, recorded(context, con, energy, "orders") as step:
        results = ingest_drop_folder(con, warehouse.paths.drop_dir, progress=context.log.info)
        failures = [r for r in results if isinstance(r, IngestFailure)]
        loaded = [r for r in results if not isinstance(r, IngestFailure)]
        for f in failures:
            context.log.error(f"rejected {f.file.name}: {f.error}")
        step.counts.update(
            files_seen=len(results), files_new=sum(not r.duplicate for r in loaded), files_rejected=len(failures),
            rows_loaded=sum(r.rows_loaded for r in loaded), rows_quarantined=sum(r.rows_quarantined for r in loaded),
            rows_skipped_known=sum(r.rows_skipped_known for r in loaded),
            rows_replaced=sum(r.rows_replaced for r in loaded),
            per_file={r.file.name: describe_report(r) for r in loaded},
            order_lines_total=con.execute("SELECT count(*) FROM orders").fetchall()[0][0])
    return step.result()


@asset(**_COMMON)
def users(context: AssetExecutionContext, warehouse: WarehouseResource,
          energy: EnergyMeterResource) -> MaterializeResult:
    """The users directory (role and scope per user), validated line by line: the ``users``
    table is the one copy the forecast, the checks, the savings and the snapshot read."""
    directory = read_users(warehouse.paths.users_csv)
    with warehouse.connect() as con, recorded(context, con, energy, "users") as step:
        store_users(con, directory)
        step.counts.update(users=len(directory), roles=len({u.role for u in directory}))
    return step.result()


@asset(deps=[users], **_COMMON)
def question_log(context: AssetExecutionContext, warehouse: WarehouseResource,
                 energy: EnergyMeterResource) -> MaterializeResult:
    """Asked questions from log files and the dashboard's event spool, each loaded once."""
    paths = warehouse.paths
    with warehouse.connect() as con, recorded(context, con, energy, "question_log") as step:
        logs = ingest_question_logs(con, paths.question_log_dir)
        spool = ingest_spool(con, paths.spool_dir)
        step.counts.update(log_rows_new=logs.rows_new, log_rows_known=logs.rows_known,
                           log_rows_unknown_user=logs.unknown_users, log_rows_bad=logs.rows_bad,
                           spool_files=spool.files, events_new=spool.events_new,
                           events_already_loaded=spool.events_already_loaded,
                           questions_total=con.execute("SELECT count(*) FROM question_log").fetchall()[0][0])
    return step.result()


@asset(deps=[orders], **_COMMON)
def sales_facts(context: AssetExecutionContext, warehouse: WarehouseResource,
                energy: EnergyMeterResource) -> MaterializeResult:
    """Every order line loaded so far, with a returned flag, plus the entity names questions may
    mention; a night reads only the lines dated before its morning (periods end before it)."""
    with warehouse.connect() as con, recorded(context, con, energy, "sales_facts") as step:
        lines = build_sales_facts(con)
        first, last = con.execute("SELECT min(order_date), max(order_date) FROM sales_facts").fetchall()[0]
        step.counts.update(order_lines=lines, first_day=str(first), data_through=str(last))
    return step.result()
