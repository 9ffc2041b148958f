"""Why a question that looks like a catalogue question must not be mapped: it asks for
something the layer does not hold (a thing, an exclusion, a statistic, a grain, a count, a
comparison), or it cannot be pinned down. Nothing here maps a question; it only refuses."""

from __future__ import annotations

import re
from typing import Any

from warehouse.language.layer_words import DIMENSION_WORDS, RANKED
from warehouse.language.lexicon import COUNT_WORDS
from warehouse.semantic.catalogue import DIMENSIONS, METRICS

# What the catalogue cannot answer: a question about it is refused, never served a neighbour.
_OFF_CATALOGUE = (r"\b(ship|ships|shipped|shipping|shipment|shipments|deliver\w*|postal|postcode|zip|employees?|"
                  r"staff|headcount|forecast\w*|budget\w*|targets?|quotas?|projected|projection|predict\w*|"
                  r"inventory|stock|cogs|taxe?s?|weather|sales ?reps?|salesperson|reps|country|countries|canada|canadian|"
                  r"usa|united states|"
                  r"per (order|transaction|unit|item|head|person|employee|customer|client|account))\b")
# Exclusions ("excluding Furniture") would otherwise become the very filter they exclude.
_EXCLUSION = (r"\b(excluding|exclude[sd]?|excl|except|without|other than|apart from|besides|aside from|"
              r"not including|not counting|outside|minus|net of|non|all but|rest of|leaving out)\b")
# Statistics other than the catalogue's totals / rates / averages per order.
_OTHER_STATISTIC = (r"\b(median|mean|on average(?! (order|basket|discount|sale))|average (monthly|weekly|daily|per)|(monthly|weekly|daily) average|"
                    r"standard deviation|variance|percentile|cumulative growth|cagr|run rate|annuali[sz]ed)\b")
_UNSUPPORTED_GRAIN = (r"\b(daily|day by day|by day|per day|each day|by weekday|by hour|hourly|quarterly|"
                      r"quarter by quarter|by quarter|per quarter|yearly|year by year|by year|"
                      r"per year)\b")
_COUNT_OF_THINGS = (r"\b(how many|number of|count of|no of|num of) (distinct |unique |different |active )?"
                    r"(customers|clients|accounts|buyers|products|skus|states|cities|sub categories|categories)\b")



# "the same day last week": only a to-date period's previous period is its same point.
_SAME_POINT = r"\bsame (day|days|point|time|period|weekday|date|dates) (last|previous|prior|the previous|a) (week|month|quarter)\b"
_SAME_POINT_IS_PREV = {("this_week", "week"), ("month_to_date", "month"), ("quarter_to_date", "quarter")}


def _stray_numbers(text: str, n: int | None) -> list[str]:
    """The numbers in ``text`` that are neither part of a period ("last 30 days", "Q3", "2022")
    nor the stated N of a ranking ("top 5"): a threshold or a count the catalogue cannot place."""
    counts = "|".join(w for w in COUNT_WORDS if w != "one")
    rest = re.sub(rf"\b(\d{{1,2}}|{counts}) (days|weeks|months)\b|\b20\d\d\b|\bq[1-4]\b", " ", text)
    found = re.findall(rf"\b(\d+(?:\.\d+)?[km]?|{counts})\b", rest)
    for i, word in enumerate(found):
        if (int(word) if word.isdigit() else COUNT_WORDS.get(word)) == n:
            return found[:i] + found[i + 1:]
    return found


def refusal(slots: str, family: str, stated: dict[str, Any]) -> str | None:
    """Why a question that looks like a catalogue question must not be mapped (None: it may)."""
    rest = _without_stated_names(slots, stated)
    off = re.search(_OFF_CATALOGUE, rest)
    if off:
        return "asks about something the catalogue does not hold (" + off.group(0) + ")"
    for pattern, what in ((_EXCLUSION, "an exclusion"), (_OTHER_STATISTIC, "a statistic")):
        hit = re.search(pattern, slots)
        if hit:
            return f"asks for {what} the catalogue does not compute ({hit.group(0)})"
    count = re.search(_COUNT_OF_THINGS, rest)
    if family != "customers" and count:
        return "asks for a count the catalogue does not hold (" + count.group(0) + ")"
    if family in ("trend", "breakdown", "kpi") and re.search(_UNSUPPORTED_GRAIN, slots):
        return "asks for a time grain the catalogue does not hold (" + re.search(_UNSUPPORTED_GRAIN, slots).group(0) + ")"
    same = re.search(_SAME_POINT, slots)
    if same and (stated["period"], same.group(3)) not in _SAME_POINT_IS_PREV:
        return f"compares with the {same.group(0)}, a comparison the catalogue does not hold for that period"
    if family == "breakdown" and stated["compare"] != "none":
        return "a breakdown of a change (the catalogue breaks down one period's figures)"
    if family == "kpi" and stated["direction"]:
        return ("a ranking question without what to rank ("
                + ", ".join(DIMENSIONS[d].plural for d in RANKED) + ")")
    stray = _stray_numbers(slots, stated["n"])
    if stray:
        if family == "ranking" and stated["n"] is None:
            return "could not tell how many to list"
        return f"holds a number the catalogue cannot place ({', '.join(stray)})"
    return None


def _without_stated_names(slots: str, stated: dict[str, Any]) -> str:
    """``slots`` with the stated metric's and dimension's own words blanked: a word the layer
    gives them ("ship mode", "price per unit") is not a thing the catalogue lacks."""
    names = (METRICS[stated["metric"]].synonyms if stated["metric"] else ()) + \
        (DIMENSION_WORDS[stated["dimension"]] if stated["dimension"] else ())
    for name in sorted(names, key=len, reverse=True):
        slots = re.sub(rf"\b{re.escape(name)}\b", " ", slots)
    return slots
