"""Offpeak's dashboard: ``streamlit run dashboard/app.py``.

Finds the published snapshot, identifies the person, and offers the pages their role may see:
Briefing and Ask for everyone, Pipeline for data engineers and admins, Savings for admins.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the repository root.
_REPO_ROOT = str(Path(__file__).resolve().parents[1])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

import streamlit as st  # noqa: E402

from dashboard import data, identity  # noqa: E402
from dashboard.components import format_day, md_escape  # noqa: E402

st.set_page_config(page_title="Offpeak", page_icon=":material/bedtime:", layout="wide")

snapshot = data.snapshot_path()
if snapshot is None:
    st.navigation([st.Page("app_pages/no_snapshot.py", title="Getting started",
                           icon=":material/hourglass_empty:")]).run()
    st.stop()

who = identity.resolve(data.users(snapshot))
if who.user is None:
    st.navigation([st.Page("app_pages/no_access.py", title="Sign in", icon=":material/login:")]).run()
    st.stop()

user = who.user
pages = {"Your morning": [
    st.Page("app_pages/briefing.py", title="Briefing", icon=":material/wb_sunny:", default=True),
    st.Page("app_pages/ask.py", title="Ask", icon=":material/question_answer:"),
]}
operations = []
if identity.may_open(user, identity.SAVINGS_RIGHTS):
    operations.append(st.Page("app_pages/savings.py", title="Savings", icon=":material/savings:"))
if identity.may_open(user, identity.PIPELINE_RIGHTS):
    operations.append(st.Page("app_pages/pipeline.py", title="Pipeline", icon=":material/account_tree:"))
if operations:
    pages["Operations"] = operations
page = st.navigation(pages)

with st.sidebar:
    night = data.info(snapshot)
    st.caption(f"Signed in as **{md_escape(identity.describe(user))}** ({who.source})")
    st.caption(f"Serving the answers of the night of {format_day(night.night)}")
page.run()
