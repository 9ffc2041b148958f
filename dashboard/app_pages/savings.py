"""Savings (admins): what pre-computing last nights' answers saved, and what it cost."""

import altair as alt
import streamlit as st

from dashboard import data, identity
from dashboard.components import format_energy, md_escape, method_label, night_axis, table

identity.viewer(rights=identity.SAVINGS_RIGHTS)
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
    st.info("Figures marked **(estimate)** come from CPU time × a configured wattage, not from "
            "an energy meter. The night's note: " + md_escape("; ".join(total.method_notes)),
            icon=":material/calculate:")
estimate = "" if total.all_measured else " (estimate)"

queries, rate, waste = st.columns(3)
queries.metric("Live queries avoided", f"{total.hits:,}", border=True,
               help="Questions answered from a pre-computed answer instead of a live query.")
rate.metric("Hit rate", f"{total.hit_rate:.0%}" if total.hit_rate is not None else "—", border=True,
            help=f"{total.hits:,} of {total.questions:,} questions asked were answered from last "
                 f"night's answers; {total.misses:,} were queued for the next night.")
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
per_night = alt.Chart(nights).encode(x=night_axis())
st.altair_chart(alt.layer(
    per_night.mark_bar(opacity=0.8).encode(y=alt.Y("hits:Q", title="Live queries avoided")),
    per_night.mark_line(point=True, color="#e45756").encode(
        y=alt.Y("hit_rate:Q", title="Hit rate", axis=alt.Axis(format="%"))),
).resolve_scale(y="independent").properties(height=240), width="stretch")

st.subheader("Answers computed vs read (waste)")
computed_read = nights.rename(columns={"answers_computed": "computed", "answers_read": "read"}).melt(
    id_vars="night", value_vars=["computed", "read"], var_name="answers", value_name="count")
st.altair_chart(alt.Chart(computed_read).mark_bar().encode(
    x=night_axis(), xOffset="answers:N", y=alt.Y("count:Q", title="Answers"),
    color=alt.Color("answers:N", title=None, legend=alt.Legend(orient="bottom"),
                    scale=alt.Scale(domain=["computed", "read"], range=["#9ecae9", "#3182bd"])),
    tooltip=["answers:N", "count:Q"],
).properties(height=280), width="stretch")

st.subheader("Net savings per night")
net = nights.rename(columns={"net_wh": "net saved", "live_wh_avoided": "live answers avoided",
                             "batch_wh": "spent pre-computing"}).melt(
    id_vars="night", value_vars=["net saved", "live answers avoided", "spent pre-computing"],
    var_name="figure", value_name="Wh")
st.altair_chart(alt.Chart(net).mark_line(point=True).encode(
    x=night_axis(), y=alt.Y("Wh:Q", title=f"Wh{estimate}"),
    color=alt.Color("figure:N", title=None, legend=alt.Legend(orient="bottom")),
    tooltip=["figure:N", alt.Tooltip("Wh:Q", format=",.3f")],
).properties(height=280), width="stretch")

st.subheader("Energy spent pre-computing, by tier")
tiers = by_tier.assign(measured=by_tier["tier_label"] + " · " + by_tier["method"].map(method_label))
st.altair_chart(alt.Chart(tiers).mark_bar().encode(
    x=night_axis(), y=alt.Y("wh:Q", title="Wh"),
    color=alt.Color("measured:N", title=None, legend=alt.Legend(orient="bottom", columns=1, labelLimit=0)),
    tooltip=["measured:N", alt.Tooltip("wh:Q", format=",.3f"), "assets:N"],
).properties(height=280), width="stretch")
st.caption("Last night's answers by tier:")
table(answers_by_tier.assign(method=answers_by_tier["method"].map(method_label)),
      {"joules": "Energy (J)", "method": "Energy method"})

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
table(nights, {"hit_rate": "Hit rate", "waste_ratio": "Waste", "batch_wh": "Batch Wh",
              "live_wh_per_answer": "Live Wh per answer", "live_wh_avoided": "Live Wh avoided",
              "net_wh": "Net Wh", "net_co2_g": "Net CO₂ (g)"}, percents=("hit_rate", "waste_ratio"))

st.subheader("LLM replies per night")
quality = data.llm_quality(snapshot)
if quality.empty:
    st.info("No LLM tier ran in the published nights: every answer was written from a template.",
            icon=":material/info:")
else:
    st.caption("Narratives and backlog query specs are decoded under structured output (guided JSON), so a "
               "reply that does not parse should be rare; *kept* is what passed the grounding guard "
               "(narratives) or the verification (specs).")
    table(quality, {"kind": "Reply", "model": "Model", "replies": "Replies", "parsed": "Parsed", "kept": "Kept",
                    "parse_failure_rate": "Parse failures", "kept_rate": "Kept share"},
          percents=("parse_failure_rate", "kept_rate"))
