"""Ask: match a free-text question to an answer computed last night, or queue it for tonight."""

import streamlit as st

from dashboard import data, identity
from dashboard.components import answer_card, md_escape, table
from warehouse.language.live_sql import LIVE_SQL_LABEL

user = identity.viewer()
snapshot = data.require_snapshot()
live = data.live_answering()

st.title("Ask")
st.markdown("Your question is matched against the answers Offpeak computed last night for "
            f"**{md_escape(identity.describe(user))}**; one it fully understands but nobody "
            "predicted is computed at once from last night's data. No AI model runs.")

with st.form("ask"):
    text = st.text_input("Your question", max_chars=data.MAX_QUESTION_CHARS,
                         placeholder="e.g. How did revenue last month compare with the month before?")
    asked = st.form_submit_button("Ask", type="primary")
st.toggle("Answer live with an LLM when nothing matches", value=False, disabled=not live.available,
          key="live_llm", help=live.reason)
st.caption(f"Live answers: {'unavailable' if live.requested else 'off'}. {live.reason}")

if asked and text.strip():
    with st.spinner("Looking through last night's answers…"):
        st.session_state["ask_outcome"] = (snapshot, user.user_id, data.ask(snapshot, user, text))
last_snapshot, asker, outcome = st.session_state.get("ask_outcome", (None, None, None))
if (last_snapshot, asker) != (snapshot, user.user_id):
    outcome = None

if outcome is not None:
    st.markdown(f"**You asked:** {md_escape(outcome.question)}")
    st.caption(f"Understood as: {md_escape(outcome.understood)}"
               + (" · read through a phrasing learned overnight (no model ran now)" if outcome.learned else ""))
    if outcome.hit:
        similarity = f" (similarity {outcome.similarity:.2f})" if outcome.similarity is not None else ""
        st.success(f"Answered last night, no live query{similarity}.", icon=":material/bolt:")
        answer_card(outcome.card, note="Answered last night · no live query")
    elif outcome.live_card is not None:
        st.success(f"{LIVE_SQL_LABEL} ({outcome.live_cpu_seconds * 1000:.0f} ms of CPU).",
                   icon=":material/database:")
        answer_card(outcome.live_card, note=LIVE_SQL_LABEL)
    else:
        st.warning("No safe match in last night's answers: "
                   f"{md_escape(outcome.queued_reason)}.", icon=":material/block:")
        st.info("Queued for tonight: Offpeak will consider it when it forecasts tomorrow's "
                "questions.", icon=":material/schedule_send:")
        if outcome.candidates:
            st.subheader("Closest answers, and why they were refused")
            st.markdown("\n".join(
                f"- **{md_escape(c.question_text)}** (similarity {c.similarity:.2f}): "
                f"{md_escape(c.refused_reason or 'not served')}" for c in outcome.candidates))

with st.expander("What was answered last night in your scope"):
    table(data.answerable(snapshot, user.scope.key()), {"answer_id": "Answer id"})
