"""Getting started: nothing has been published yet, so say how to run the first night."""

import streamlit as st

from dashboard import data
from dashboard.components import md_escape

st.title("No night published yet")
st.markdown(
    "Offpeak serves answers it computed overnight, and no night has been published here yet. "
    "Run the first night, then reload this page:")
st.code("make demo", language="bash")
st.markdown("builds a demo warehouse, runs a whole night and starts this dashboard; or, "
            "with your own sales files in the drop folder:")
st.code("offpeak night", language="bash")
st.caption(f"Looking for snapshots in {md_escape(data.paths().snapshots_dir)} "
           "(set OFFPEAK\\_HOME to use another Offpeak home).")
