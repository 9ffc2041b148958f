"""Blocking asset checks: nothing is published whose numbers are not in its facts, every user
gets a briefing, and the published snapshot is complete and follows its contract."""


import json

from dagster import AssetCheckExecutionContext, AssetCheckResult, asset_check

from pipelines.assets.answering import answers, briefings
from pipelines.assets.publishing import snapshot
from pipelines.partitions import night_of
from pipelines.resources.warehouse import WarehouseResource
from warehouse.semantic.grounding import check_grounding
from warehouse.storage.contract import SnapshotContractError, table_problems
from warehouse.storage.serving import snapshot_info
from warehouse.storage.snapshot import current_snapshot, latest_snapshot_of, night_of_snapshot, open_snapshot
from warehouse.storage.users import load_users


@asset_check(asset=answers, blocking=True)
def answers_are_grounded(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> AssetCheckResult:
    """Every number in every narrative is one of its facts' numbers."""
    night = night_of(context.partition_key)
    with warehouse.connect() as con:
        rows = con.execute("SELECT answer_id, narrative, numbers FROM answers WHERE night = ?", [night]).fetchall()
    bad = []
    for answer_id, text, numbers in rows:
        verdict = check_grounding(text, json.loads(numbers))
        if not verdict.grounded:
            bad.append({"answer_id": answer_id, "offending": verdict.offending})
    return AssetCheckResult(passed=not bad, metadata={"answers": len(rows), "ungrounded": len(bad),
                                                      "threshold": 0, "examples": json.dumps(bad[:5])})


@asset_check(asset=briefings, blocking=True)
def every_user_has_a_briefing(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> AssetCheckResult:
    """Each user in the directory has at least one briefing card."""
    night = night_of(context.partition_key)
    with warehouse.connect() as con:
        directory = {u.user_id for u in load_users(con)}
        have = {r[0] for r in con.execute("SELECT DISTINCT user_id FROM briefings WHERE night = ?", [night]).fetchall()}
    missing = sorted(directory - have)
    return AssetCheckResult(passed=not missing, metadata={"users": len(directory), "without_briefing": len(missing),
                                                          "examples": ", ".join(missing[:10])})


@asset_check(asset=snapshot, blocking=True)
def snapshot_is_complete(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> AssetCheckResult:
    """This night's newest snapshot follows the snapshot contract and holds every answer, card and
    user, and CURRENT serves it (or a later night's, when this run was a backfill)."""
    night = night_of(context.partition_key)
    paths = warehouse.paths
    path, current = latest_snapshot_of(paths.snapshots_dir, night), current_snapshot(paths.snapshots_dir)
    if path is None or current is None:
        return AssetCheckResult(passed=False, metadata={"problem": f"no snapshot of night {night} or no CURRENT"})
    if night_of_snapshot(current) < night:
        return AssetCheckResult(passed=False, metadata={"problem": f"CURRENT serves {current.name}, older than {night}"})
    with warehouse.connect() as con:
        want = {t: con.execute(f"SELECT count(*) FROM {t} WHERE night = ?", [night]).fetchall()[0][0]
                for t in ("answers", "briefings")}
        want["users"] = con.execute("SELECT count(*) FROM users").fetchall()[0][0]
    snap = open_snapshot(path)
    try:
        problems = table_problems(snap)
        have = {t: snap.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in want}
        try:
            meta_night = str(snapshot_info(snap).night)
        except SnapshotContractError as exc:
            problems.append(str(exc))
            meta_night = "unreadable"
    finally:
        snap.close()
    passed = have == want and meta_night == night.isoformat() and not problems
    return AssetCheckResult(passed=passed, metadata={"snapshot": path.name, "current": current.name, "expected": json.dumps(want),
                                                     "found": json.dumps(have), "night": meta_night,
                                                     "contract_problems": json.dumps(problems)})
