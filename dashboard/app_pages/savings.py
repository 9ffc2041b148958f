"""Savings (admins): what pre-computing last nights' answers saved, and what it cost."""

import altair as alt
import streamlit as st

from dashboard import data, identity
from dashboard.components import format_energy, md_escape, method_label

identity.viewer(roles=identity.SAVINGS_ROLES)
snapshot = data.require_snapshot()
total, nights = data.savings(snapshot)
by_tier, answers_by_tier, baseline = data.energy(snapshot)

st.title("Savings")
if total.nights == 0:
    st.info("No savings yet: they are computed at the end of each night.", icon=":material/info:")
    st.stop()

methods = ", ".join(method_label(m) for m in total.energy_methods)
st.caption(f"Over the last {total.nights} night(s). Energy method: {md_escape(methods)}.")
if not total.all_measured:
    st.info("Figures marked **estimate** are CPU time × a configured wattage, not a meter "
            "reading: " + md_escape("; ".join(total.method_notes)), icon=":material/calculate:")
estimate = "" if total.all_measured else " (estimate)"

queries, rate, waste = st.columns(3)
queries.metric("Live queries avoided", f"{total.hits:,}", border=True,
               help="Questions answered from a pre-computed answer instead of a live query.")
rate.metric("Hit rate", f"{total.hit_rate:.0%}" if total.hit_rate is not None else "—", border=True,
            help=f"{total.hits:,} of {total.questions:,} questions asked")
waste.metric("Answers read / computed", f"{total.answers_read:,} / {total.answers_computed:,}",
             f"{total.waste_ratio:.0%} never read" if total.waste_ratio is not None else None,
             delta_color="inverse", delta_arrow="off", border=True)
energy, money, carbon = st.columns(3)
energy.metric(f"Net energy saved{estimate}", format_energy(total.net_wh), border=True,
              help=f"{format_energy(total.live_wh_avoided)} of live answers avoided minus "
                   f"{format_energy(total.batch_wh)} spent pre-computing")
money.metric(f"Net cost saved{estimate}", f"{total.net_cost:,.4f}", border=True,
             help="In the currency of the configured time-of-use price profile.")
carbon.metric(f"Net CO₂ saved{estimate}", f"{total.net_co2_g:,.1f} g", border=True,
              help="From the configured carbon-intensity profile.")

st.subheader("Live queries avoided and hit rate, per night")
per_night = alt.Chart(nights).encode(x=alt.X("night:T", title=None))
st.altair_chart(alt.layer(
    per_night.mark_bar(opacity=0.8).encode(y=alt.Y("hits:Q", title="Live queries avoided")),
    per_night.mark_line(point=True, color="#e45756").encode(
        y=alt.Y("hit_rate:Q", title="Hit rate", axis=alt.Axis(format="%"))),
).resolve_scale(y="independent").properties(height=240), width="stretch")

st.subheader("Answers computed vs read (waste)")
computed_read = nights.melt(id_vars="night", value_vars=["answers_computed", "answers_read"],
                            var_name="what", value_name="answers")
st.altair_chart(alt.Chart(computed_read).mark_bar().encode(
    x=alt.X("night:T", title=None), xOffset="what:N", y=alt.Y("answers:Q", title="Answers"),
    color=alt.Color("what:N", title=None, legend=alt.Legend(orient="bottom"),
                    scale=alt.Scale(domain=["answers_computed", "answers_read"],
                                    range=["#9ecae9", "#3182bd"])),
).properties(height=220), width="stretch")

st.subheader("Net savings per night")
net = nights.melt(id_vars="night", value_vars=["net_wh", "live_wh_avoided", "batch_wh"],
                  var_name="figure", value_name="Wh")
st.altair_chart(alt.Chart(net).mark_line(point=True).encode(
    x=alt.X("night:T", title=None), y=alt.Y("Wh:Q", title=f"Wh{estimate}"),
    color=alt.Color("figure:N", title=None, legend=alt.Legend(orient="bottom")),
).properties(height=220), width="stretch")

st.subheader("Energy spent pre-computing, by tier")
by_tier["method"] = by_tier["method"].map(method_label)
st.altair_chart(alt.Chart(by_tier).mark_bar().encode(
    x=alt.X("night:T", title=None), y=alt.Y("wh:Q", title="Wh"),
    color=alt.Color("tier_label:N", title="Tier", legend=alt.Legend(orient="bottom")),
    tooltip=["tier_label", "method", alt.Tooltip("wh:Q", format=",.3f"), "assets"],
).properties(height=220), width="stretch")
st.dataframe(answers_by_tier.assign(method=answers_by_tier["method"].map(method_label)),
             hide_index=True, width="stretch",
             column_config={"wh": st.column_config.NumberColumn("Wh", format="%.4f")})

st.subheader("What the hits would have cost live")
if baseline is None:
    st.info("No live baseline measured yet: the savings use the configured live cost per answer.")
else:
    avoided = total.hits * baseline["joules_per_answer"] / 3600
    st.markdown(
        f"Answering one question live, one at a time, with **{md_escape(baseline['model'])}** took "
        f"**{baseline['joules_per_answer']:,.0f} J** and **{baseline['seconds_per_answer']:.1f} s** "
        f"({md_escape(method_label(baseline['method']))}, measured on "
        f"{baseline['night']:%d %b} over {baseline['answers']} answers); in the batch it took "
        f"{baseline['batch_joules_per_answer']:,.0f} J. The {total.hits:,} hits would have taken "
        f"**{format_energy(avoided)}** live.")

st.subheader("Per night")
st.dataframe(nights, hide_index=True, width="stretch", column_config={
    "night": st.column_config.DateColumn("Night"),
    "hit_rate": st.column_config.NumberColumn("Hit rate", format="percent"),
    "waste_ratio": st.column_config.NumberColumn("Waste", format="percent"),
    "energy_method": "Energy method", "method_note": "Method note"})
