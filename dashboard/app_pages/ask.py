"""Ask: match a free-text question to an answer computed last night, or queue it for tonight."""

import pandas as pd
import streamlit as st

from dashboard import data, identity
from dashboard.components import answer_card, md_escape

user = identity.viewer()
snapshot = data.require_snapshot()
live = data.live_answering()

st.title("Ask")
st.markdown("Your question is matched against the answers Offpeak computed last night for "
            f"**{md_escape(identity.describe(user))}**. No live query runs.")

with st.form("ask"):
    text = st.text_input("Your question", max_chars=data.MAX_QUESTION_CHARS,
                         placeholder="e.g. How did revenue last month compare with the month before?")
    asked = st.form_submit_button("Ask", type="primary")
st.toggle("Answer live with an LLM when nothing matches", value=False, disabled=not live.available,
          key="live_llm", help=live.reason)
st.caption(f"Live answers: {'unavailable' if live.requested else 'off'}. {live.reason}")

if asked and text.strip():
    with st.spinner("Looking through last night's answers…"):
        st.session_state["ask_outcome"] = data.ask(snapshot, user, text)
outcome = st.session_state.get("ask_outcome")

if outcome is not None:
    st.markdown(f"**You asked:** {md_escape(outcome.question)}")
    st.caption(f"Understood as: {md_escape(outcome.understood)}")
    if outcome.hit:
        similarity = f" (similarity {outcome.similarity:.2f})" if outcome.similarity is not None else ""
        st.success(f"Answered last night, no live query{similarity}.", icon=":material/bolt:")
        answer_card(outcome.card, note="Answered last night · no live query")
    else:
        st.warning("No safe match in last night's answers: "
                   f"{md_escape(outcome.queued_reason)}.", icon=":material/block:")
        st.info("Queued for tonight: Offpeak will consider it when it forecasts tomorrow's "
                "questions.", icon=":material/schedule_send:")
        if outcome.candidates:
            st.subheader("Closest answers, and why they were refused")
            st.dataframe(pd.DataFrame({
                "Answer": [c.question_text for c in outcome.candidates],
                "Similarity": [c.similarity for c in outcome.candidates],
                "Why not served": [c.refused_reason or "" for c in outcome.candidates],
            }), hide_index=True, width="stretch",
                column_config={"Similarity": st.column_config.NumberColumn(format="%.2f")})

with st.expander("What was answered last night in your scope"):
    st.dataframe(data.answerable(snapshot, user.scope.key()), hide_index=True, width="stretch")
