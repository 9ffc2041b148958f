"""Sign in: the person could not be identified, or is not in the users directory."""

import streamlit as st

from dashboard import identity

who = identity.current()
st.title("Who are you?")
st.error(who.problem or "Offpeak does not know who you are.", icon=":material/person_off:")
if who.can_log_in:
    st.button("Log in", on_click=st.login, type="primary")
