"""How a simulated user says a question: standard, terse and polite registers, reactions to the
data, and novel one-offs the product may not answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from warehouse.demo.personas import Ask, Persona, Voice
from warehouse.demo.vocabulary import (
    DIM_WORDS,
    METRIC_TERSE,
    METRIC_WORDS,
    MONTHS,
    PERIOD_TERSE_COMPARE,
    PERIODS,
    capitalise,
    draw_entity,
    entity_words,
    named_places,
    pick,
    pick_weighted,
    possessive,
    scope_words,
)


@dataclass(frozen=True)
class _Words:
    """The pieces every template is filled from."""

    m: str           # metric words
    plural: bool
    s: str           # scope words, leading space
    p: str           # period words
    c: str           # comparison suffix, leading space or comma
    to_date: bool
    mt: str          # terse metric
    pt: str          # terse period
    st: str          # terse scope, leading space
    ct: str          # terse comparison, leading space

    @property
    def was(self) -> str:
        return {(False, False): "was", (False, True): "were", (True, False): "is", (True, True): "are"}[
            (self.to_date, self.plural)]

    @property
    def fp(self) -> str:
        """'for last week', or 'in October' as it stands."""
        return self.p if self.p.startswith(("in ", "so far")) else f"for {self.p}"

    @property
    def was1(self) -> str:
        return "is" if self.to_date else "was"


def _period_words(period: str, day: date, rng: np.random.Generator) -> str:
    words = PERIODS[period][0]
    if period == "last_month" and rng.random() < 0.08:
        return f"in {MONTHS[(day.month - 2) % 12]}"
    if period == "last_quarter" and rng.random() < 0.1:
        return f"in Q{((day.month - 1) // 3 - 1) % 4 + 1}"
    return pick(rng, words)


def _compare_words(period: str, compare: str | None, said: str, rng: np.random.Generator) -> str:
    """' vs the week before', ', year-over-year' or '' (no comparison); never repeats ``said``."""
    if compare is None:
        return ""
    _, _, to_date, unit = PERIODS[period]
    if compare == "prev":
        if to_date:
            options = [f"the same point last {unit}", f"last {unit} at this point"]
        else:
            options = [f"the {unit} before", f"the previous {unit}", f"the prior {unit}"]
            if unit in ("week", "month", "quarter") and rng.random() < 0.2:
                return f", {unit}-over-{unit}"
    else:
        if rng.random() < 0.2:
            return ", year-over-year"
        options = (["the year before"] if unit == "year" else
                   ["the same period last year", "last year"] if to_date else
                   [f"the same {unit} last year", "the same period last year", "last year"])
    options = [o for o in options if o not in said] or options
    return " " + pick(rng, ("vs", "compared to", "compared with", "versus")) + " " + pick(rng, options)


def _words(ask: Ask, day: date, rng: np.random.Generator) -> _Words:
    m, plural = pick(rng, METRIC_WORDS[ask.metric])
    unit = PERIODS[ask.period][3]
    terse_cmp = ""
    if ask.compare == "prev":
        terse_cmp = " " + pick(rng, (PERIOD_TERSE_COMPARE[unit], "vs prior"))
    elif ask.compare == "yoy":
        terse_cmp = " " + pick(rng, ("yoy", "vs ly"))
    p = _period_words(ask.period, day, rng)
    return _Words(
        m=m, plural=plural, s=scope_words(ask.focus, rng), p=p,
        c=_compare_words(ask.period, ask.compare, p, rng), to_date=PERIODS[ask.period][2],
        mt=pick(rng, METRIC_TERSE[ask.metric]), pt=pick(rng, PERIODS[ask.period][1]),
        st="".join(" " + v.lower() for _, v in named_places(ask.focus)), ct=terse_cmp)


def _standard(ask: Ask, w: _Words, rng: np.random.Generator) -> str:
    """A plain question."""
    dim1, dims = DIM_WORDS.get(ask.dim, ("", ("",)))
    dims = pick(rng, dims)
    fill = dict(m=w.m, s=w.s, p=w.p, fp=w.fp, c=w.c, was=w.was, was1=w.was1, n=ask.n, dim1=dim1, dims=dims)
    if ask.kind == "checkin":
        options = (["How are we doing {p}{s}?", "How are things going {p}{s}?"] if w.to_date else
                   ["How did {p} go{s}?", "How did we do {p}{s}?", "{P}'s numbers{s}?", "Quick read on {p}{s}?",
                    "How were sales {p}{s}?"])
        return capitalise(pick(rng, options).format(P=capitalise(w.p), **fill))
    if ask.kind == "kpi":
        options = ["What {was} {m}{s} {p}{c}?", "Show me {m}{s} {fp}{c}", "{m}{s} {p}{c}?",
                   "Where {land} on {m}{s} {p}{c}?"]
        fill["land"] = "are we" if w.to_date else "did we land"
    elif ask.kind == "top":
        top, hi = (("top", "best"), "highest") if ask.direction == "top" else (("bottom", "worst"), "lowest")
        fill.update(top=pick(rng, top), hi=hi)
        options = ["{top} {n} {dims} by {m}{s} {p}?", "Which {n} {dims} had the {hi} {m}{s} {p}?",
                   "What {were} the {top} {n} {dims}{s} by {m} {p}?", "Show me the {top} {n} {dims} by {m}{s} {fp}"]
        fill["were"] = "are" if w.to_date else "were"
        if ask.dim == "customer_name":
            options.append("Who were our {top} {n} customers by {m}{s} {p}?")
    elif ask.kind == "trend":
        grain, horizons = (("weekly", ("the last 8 weeks", "the last 12 weeks", "this quarter")) if ask.dim == "week"
                           else ("monthly", ("the last 12 months", "the last 6 months", "this year")))
        fill.update(grain=grain, unit=ask.dim, h=pick(rng, horizons), has="have" if w.plural else "has")
        options = ["Show the {grain} {m} trend{s} over {h}", "{m}{s} by {unit} over {h}?",
                   "How {has} {m}{s} trended over {h}?", "{grain} {m} trend{s} for {h}"]
    elif ask.kind == "share":
        fill.update(e=entity_words(*ask.entity), came="is coming" if w.to_date else "came")
        options = ["What share of {m}{s} {was1} {e} {p}?", "What % of our {m}{s} {came} from {e} {p}?",
                   "{e} share of {m}{s} {p}?", "How much of {m}{s} {p} {was1} {e}?"]
    elif ask.kind == "movers":
        options = ["What were the biggest movers by {dim1}{s} {p}?", "Which {dims} moved the most{s} {p}{c}?",
                   "Biggest gainers and losers among {dims}{s} {p}?", "Biggest {m} movers by {dim1}{s}, {p}{c}"]
    elif ask.kind == "why":
        options = ["Why did {m}{s} change {p}?", "What drove the change in {m}{s} {p}?",
                   "What's behind the {m} numbers{s} {p}?", "Break down the change in {m}{s} {p} by {dim1}",
                   "Drivers of {m}{s} {p}{c}?"]
    else:  # new_returning
        fill["get"] = "have we won" if w.to_date else "did we win"
        options = ["New vs returning customers{s} {p}?", "How many new customers {get}{s} {p}?",
                   "What share of {m}{s} came from returning customers {p}?",
                   "Split of new and repeat customers{s} {fp}"]
    return capitalise(pick(rng, options).format(**fill))


def _terse(ask: Ask, w: _Words, rng: np.random.Generator) -> str:
    """A clipped question: 'rev yday west'."""
    st0, part = w.st.strip(), ask.entity[1].lower() if ask.entity else ""
    dims = pick(rng, DIM_WORDS.get(ask.dim, ("", ("",)))[1]).lower()
    by_kind = {
        "checkin": [f"{w.pt} numbers{w.st}", f"numbers {w.pt}{w.st}?"],
        "kpi": [f"{w.mt} {w.pt}{w.st}{w.ct}", f"{st0} {w.mt} {w.pt}{w.ct}".strip()],
        "top": [f"{'top' if ask.direction == 'top' else 'bottom'}{ask.n} {dims} {w.pt}{w.st}",
                f"{'top' if ask.direction == 'top' else 'worst'} {ask.n} {dims} by {w.mt} {w.pt}"],
        "trend": [f"{'wkly' if ask.dim == 'week' else 'monthly'} {w.mt} trend{w.st}",
                  f"{w.mt} trend by {ask.dim}{w.st}"],
        "share": [f"{part} share of {w.mt} {w.pt}", f"% {w.mt} from {part} {w.pt}"],
        "movers": [f"movers by {DIM_WORDS.get(ask.dim, ('', ()))[0]} {w.pt}{w.st}", f"top movers {w.pt}{w.st}"],
        "why": [f"{w.mt} drivers {w.pt}{w.st}", f"why {w.mt} {w.pt}{w.st}?"],
        "new_returning": [f"new vs returning {w.pt}{w.st}", f"new custs {w.pt}{w.st}"],
    }
    return pick(rng, by_kind[ask.kind])


def _polite(ask: Ask, w: _Words, rng: np.random.Generator) -> str:
    """A long, courteous request wrapped around a noun phrase."""
    dim1, dims = DIM_WORDS.get(ask.dim, ("", ("",)))
    top = "top" if ask.direction == "top" else "bottom"
    grain = "weekly" if ask.dim == "week" else "monthly"
    horizon = "the last 12 weeks" if ask.dim == "week" else "the last 12 months"
    phrase = {
        "checkin": f"a quick update {w.p}{w.s}" if w.to_date else f"a quick summary of {w.p}{w.s}",
        "kpi": f"{w.m}{w.s} {w.fp}{w.c}",
        "top": f"the {top} {ask.n} {dims[0]} by {w.m}{w.s} {w.fp}",
        "trend": f"the {grain} {w.m} trend{w.s} over {horizon}",
        "share": f"{possessive(entity_words(*ask.entity)) if ask.entity else 'the'} share of {w.m}{w.s} {w.fp}",
        "movers": f"the biggest movers by {dim1}{w.s} {w.fp}",
        "why": f"a breakdown of what drove {w.m}{w.s} {w.p}",
        "new_returning": f"new vs returning customers{w.s} {w.fp}",
    }[ask.kind]
    wrappers = ("Could you pull {x}, please?", "Hi, can you send me {x}?",
                "Please share {x} when you get a chance.", "I'd like to see {x}. Thanks!",
                "Good morning! Could I get {x}?", "Would you mind showing me {x}?",
                "Hey team, can I get {x}? I need it for my 10am.",
                "When you have a minute, could you put together {x}?")
    return pick(rng, wrappers).format(x=phrase)


def _reaction(ask: Ask, w: _Words, rng: np.random.Generator, terse: bool) -> str:
    """A question about a move in the data: 'Why did Furniture sales drop last week?'."""
    named = named_places(ask.focus)
    adjective = [(c, v) for c, v in named if c in ("category", "sub_category", "segment")]
    if adjective:
        rest = tuple(cv for cv in named if cv != adjective[0])
        subject = f"{adjective[0][1]} {w.m}{scope_words(rest, rng)}"
    else:
        subject = f"{w.m}{w.s}"
    down = ask.direction == "down"
    if terse:
        return f"why {w.st.strip()} {w.mt} {'down' if down else 'up'} {w.pt}?".replace("  ", " ")
    pct, verb = round(abs(ask.change) * 100), w.was
    move = pick(rng, ("drop", "fall", "decline", "dip") if down else ("jump", "spike", "rise"))
    options = [f"Why did {subject} {move} {w.p}?",
               f"What happened to {subject} {w.p}?",
               f"{capitalise(subject)} {verb} way {'down' if down else 'up'} {w.p}, what drove it?",
               f"Can someone explain the {'drop' if down else 'spike'} in {subject} {w.p}?",
               f"What's behind the {'decline' if down else 'jump'} in {subject} {w.p}?"]
    if 10 <= pct <= 300:
        options.append(f"{capitalise(subject)} {'fell' if down else 'rose'} {pct}% {w.p}, why?")
    return capitalise(pick(rng, options))


def render(ask: Ask, voice: Voice, day: date, rng: np.random.Generator) -> str:
    """Put an ask into words in the user's voice (register, case, question mark)."""
    w = _words(ask, day, rng)
    register = pick_weighted(rng, ("standard", "terse", "polite"), voice.registers)
    if ask.kind == "reaction":
        text = _reaction(ask, w, rng, terse=register == "terse")
    elif register == "terse":
        text = _terse(ask, w, rng)
    elif register == "polite":
        text = _polite(ask, w, rng)
    else:
        text = _standard(ask, w, rng)
    return _finish(text, voice, rng)


def _finish(text: str, voice: Voice, rng: np.random.Generator) -> str:
    text = " ".join(text.split())
    if rng.random() < voice.lowercase:
        text = text.lower()
    if text.endswith("?") and rng.random() < voice.drop_qmark:
        text = text[:-1]
    return text


# ---------------------------------------------------------------------------------------------
# Novel one-offs
# ---------------------------------------------------------------------------------------------

# (template, slots it needs). Many are look-ups, shipping, stock or forecast questions.
_NOVEL: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("How many orders has {customer_name} placed {p}?", ("customer_name",)),
    ("When was {customer_name}'s last order?", ("customer_name",)),
    ("What did {customer_name} buy last time?", ("customer_name",)),
    ("Which products did {customer_name} order {p}?", ("customer_name",)),
    ("What is the total sales of {product_name} {p}?", ("product_name",)),
    ("Who bought {product_name} {p}?", ("product_name",)),
    ("What category does {product_name} belong to?", ("product_name",)),
    ("Which customer placed the largest single order {p}?", ()),
    ("Which product had the highest discount {p}?", ()),
    ("How many customers in {city} ordered {sub_category} {p}?", ("city", "sub_category")),
    ("Compare the number of orders between {sub_category} and {sub_category2} {p}",
     ("sub_category", "sub_category2")),
    ("List 5 customers in {city} who bought {category} {p}", ("city", "category")),
    ("Which city had the most orders {p}?", ()),
    ("How many orders did we sell at a loss {p}?", ()),
    ("Which products did we sell at more than 50% discount {p}?", ()),
    ("Average quantity per order for {sub_category} {p}?", ("sub_category",)),
    ("Which customers haven't ordered in the last 90 days?", ()),
    ("How many customers do we have in {state}?", ("state",)),
    ("What's the average shipping time to {city}?", ("city",)),
    ("How many orders shipped Second Class {p}?", ()),
    ("Which orders from {customer_name} haven't shipped yet?", ("customer_name",)),
    ("Were any {category} orders delivered late {p}?", ("category",)),
    ("Forecast revenue for next month", ()),
    ("What will {category} sales look like next quarter?", ("category",)),
    ("Are we going to hit our Q{q} target?", ()),
    ("What's the pipeline looking like for next quarter?", ()),
    ("Which sales rep closed the most deals {p}?", ()),
    ("How many units of {product_name} do we have in stock?", ("product_name",)),
    ("What is our market share in {state}?", ("state",)),
    ("Who is the account manager for {customer_name}?", ("customer_name",)),
    ("What's the phone number for {customer_name}?", ("customer_name",)),
    ("Projected revenue for the rest of the year?", ()),
    ("Which products were returned the most {p}?", ()),
    ("Email me the weekly report every Monday", ()),
)
_NOVEL_PERIODS = ("last month", "this year", "last quarter", "last week", "this month", "in the last 30 days")


def novel(persona: Persona, day: date, rng: np.random.Generator) -> str:
    """A one-off question outside the user's habits, with entities from their scope."""
    vocab = dict(persona.vocab)
    if "sub_category" in vocab:
        vocab["sub_category2"] = vocab["sub_category"]
    usable = [(t, slots) for t, slots in _NOVEL if all(s in vocab for s in slots)]
    template, slots = pick(rng, usable)
    fill = {slot: draw_entity(rng, vocab, slot) for slot in slots}
    if fill.get("sub_category2") == fill.get("sub_category") and "sub_category2" in fill:
        fill["sub_category2"] = next((v for v in vocab["sub_category"][0] if v != fill["sub_category"]), "others")
    fill.update(p=pick(rng, _NOVEL_PERIODS), q=(day.month - 1) // 3 + 1)
    text = template.format(**fill)
    if rng.random() < persona.voice.registers[2]:
        text = pick(rng, ("Quick question: ", "Hi, ", "Sorry to bother, ")) + text[0].lower() + text[1:]
    return _finish(text, persona.voice, rng)


# ---------------------------------------------------------------------------------------------
# Personas
# ---------------------------------------------------------------------------------------------
