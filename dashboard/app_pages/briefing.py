"""Briefing: this morning's pre-computed answers for the signed-in user, best first."""

import streamlit as st

from dashboard import data, identity
from dashboard.components import answer_card, format_day, md_escape

user = identity.viewer()
snapshot = data.require_snapshot()
night = data.info(snapshot)
fresh = data.freshness(snapshot)
cards = data.briefing(snapshot, user.user_id)

st.title(f"Good morning, {md_escape(user.name.split()[0])}")
published = f"{night.published_at:%H:%M on %d %b}" if night.published_at else "unknown"
lag = f" ({fresh.data_lag_days} days before)" if fresh.data_lag_days and fresh.data_lag_days > 1 else ""
st.markdown(f"**Briefing as of {format_day(night.as_of)}** · data through "
            f"{format_day(night.data_through)}{lag} · published {published}")
if fresh.stale:
    st.warning(f"This briefing is {fresh.days_behind} day(s) old: no night has been published "
               "since. The Pipeline page shows what happened.", icon=":material/schedule:")

if not cards:
    st.info("Nothing was predicted for you last night. Ask a question: it joins tonight's "
            "forecast.", icon=":material/info:")
for card in cards:
    answer_card(card)

data.record_views(snapshot, user.user_id, [c.answer_id for c in cards])
