"""Pipeline (data engineers and admins): how the last nights went and what is waiting."""

import streamlit as st

from dashboard import data, identity
from dashboard.components import format_day, md_escape, table

viewer = identity.viewer(rights=identity.PIPELINE_RIGHTS)
snapshot = data.require_snapshot()
night = data.info(snapshot)
fresh = data.freshness(snapshot)
tables = data.pipeline(snapshot)
runs = tables["runs"]

st.title("Pipeline")
status, through, window = st.columns(3)
last = runs.iloc[0] if len(runs) else None
status.metric("Last run", last["status"] if last is not None else "none", border=True,
              help=f"run {last['run_id']}" if last is not None else None)
through.metric("Data through", format_day(night.data_through), border=True,
               help=f"briefing as of {format_day(night.as_of)}")
start, end = night.next_window_start, night.next_window_end
window.metric("Next window", f"{start:%a %H:%M} {start:%Z}", border=True,
              help=f"{start:%a %d %b %Y %H:%M}–{end:%H:%M} {md_escape(night.next_window_timezone)}")
if fresh.stale:
    st.warning(f"The published snapshot is {fresh.days_behind} day(s) old.", icon=":material/schedule:")
st.markdown(f"**Next scheduled window:** {start:%a %d %b %H:%M}–{end:%H:%M} "
            f"{md_escape(night.next_window_timezone)}. Why: {md_escape(night.next_window_reason)}")
if night.dagster_url and night.dagster_url.startswith(("http://", "https://")):
    st.link_button("Open the Dagster UI", night.dagster_url, icon=":material/open_in_new:")
    st.caption(f"Dagster UI: {md_escape(night.dagster_url)}")

st.subheader("Last nights' runs")
table(runs, {"run_id": "Run", "wh": "Energy (Wh)", "seconds": "Seconds"})
with st.expander("Every asset of those runs"):
    table(tables["asset_runs"], {"run_id": "Run", "wh": "Energy (Wh)", "energy_method": "Energy method"})

st.subheader("Freshness by asset")
table(tables["freshness"], {"last_success_night": "Last successful night",
                            "last_success_at": "Last success at", "latest_status": "Latest status"})

st.subheader("Quarantined rows")
if tables["quarantine"].empty:
    st.success("No rows quarantined.", icon=":material/check:")
else:
    table(tables["quarantine"], {"source_file": "File", "rows": "Rows", "last_at": "Last quarantined"})
    with st.expander("Most recent quarantined rows"):
        table(tables["quarantine_sample"], {"source_file": "File", "row_number": "Row",
                                            "raw": "Raw text", "quarantined_at": "Quarantined at"})

st.subheader("Unmapped questions: the catalogue's backlog")
if tables["unmapped"].empty:
    st.success("Every question asked mapped onto the catalogue.", icon=":material/check:")
else:
    table(tables["unmapped"], {"times_asked": "Times asked", "closest": "Closest intents"})

st.subheader("What the night made of the backlog")
st.caption("Each unmapped question goes once to the night's LLM, in the narratives' batch, for a query spec "
           "in the semantic layer's terms. A spec is believed only when it is valid in the layer, inside the "
           "asker's scope, agrees with every slot the question states, reads back as the same query, and "
           "every word of the question is the layer's; accepted ones were answered overnight.")
if tables["backlog"].empty:
    st.info("No backlog question was tried yet (no unmapped question, or no LLM tier).", icon=":material/info:")
else:
    table(tables["backlog"], {"user_id": "Asked by", "status": "Status", "reason": "Why", "model": "Model"})

st.subheader("Learned phrasings")
learned = tables["learned"]
if learned.empty:
    st.info("Nothing learned yet.", icon=":material/info:")
else:
    st.caption("Question texts the product now reads at zero model cost, re-checked for every asker "
               "and day. *needs_review*: the reading holds but the question uses words the layer does "
               "not know; it serves only once an admin approves it.")
    table(learned, {"reading": "Read as", "status": "Status", "learned_night": "Learned on",
                    "asked_by": "First asked by", "model": "Proposed by", "decided_by": "Decided by",
                    "decided_at": "Decided at"})
    if viewer.may("admin"):
        with st.form("review_learned"):
            chosen = st.selectbox("Phrasing", learned["question"].tolist())
            approve, reject = st.columns(2)
            approved = approve.form_submit_button("Approve", icon=":material/check:")
            rejected = reject.form_submit_button("Reject", icon=":material/block:")
        if approved or rejected:
            data.review_learned(viewer, chosen, approve=approved)
            st.success(f"{'Approval' if approved else 'Rejection'} of “{md_escape(chosen)}” recorded: "
                       "tonight's night applies it.", icon=":material/schedule_send:")
