"""Pipeline (data engineers and admins): how the last nights went and what is waiting."""

import streamlit as st

from dashboard import data, identity
from dashboard.components import format_day, md_escape, table

identity.viewer(rights=identity.PIPELINE_RIGHTS)
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
