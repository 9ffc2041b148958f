"""The slot guard: near-duplicates that ask for something else are refused, paraphrases pass."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from warehouse.language.slot_guard import GuardVerdict, align, combine, extract_slots, guard, lemma

MUST_REFUSE = [
    ("What is the highest revenue by region?", "What is the lowest revenue by region?", "extreme"),
    ("What is the average order value?", "What is the total order value?", "aggregate"),
    ("What were sales in the West last month?", "What were sales in the East last month?", "place"),
    ("Revenue last month", "Revenue this month", "period"),
    ("Top 5 products by sales", "Top 10 products by sales", "numbers"),
    ("What was our profit in 2023?", "What was our revenue in 2023?", "metric"),
    ("How many orders were placed before 2020?", "How many orders were placed after 2020?",
     "comparison"),
    ("How many members are older than 18?", "How many members are younger than 18?", "comparison"),
    ("List tracks of genre Rock and media type MPEG.", "List tracks of genre Rock or media type MPEG.",
     "disjunction"),
    ("Find dorms that have a TV Lounge.", "Find dorms that do not have a TV Lounge.", "negation"),
    ("List products in ascending order of price.", "List products in descending order of price.",
     "order"),
    ("Which product had the second highest sales?", "Which product had the highest sales?", "numbers"),
    ("Customers with at least 2 accounts", "Customers with more than 2 accounts", "numbers"),
    ("Sales for Furniture in March", "Sales for Furniture in April", "period"),
    ("Did sales rise in Texas?", "Did sales drop in Texas?", "change"),
    ("Show flights from 'APG' airport.", "Show flights from 'ABZ' airport.", "named values"),
    ("Sales by month", "Sales by quarter", "period"),
    ("Revenue year to date", "Revenue last year", "period"),
]

MUST_ACCEPT = [
    ("How many farms are there?", "Count the number of farms."),
    ("revenue last month", "sales in the previous month"),
    ("Show customers with at least 2 accounts.", "Show customers with more than one account."),
    ("What were total sales in the West region?", "Total revenue for the western region?"),
    ("Top 3 customers by revenue", "Which three customers have the largest sales?"),
    ("How many 'United Airlines' flights depart from Airport 'AHD'?",
     "Return the number of United Airlines flights leaving from AHD Airport."),
    ("What are the ids of movies not reviewed by Brittany Harris?",
     "What are the ids of movies that have not been reviewed by Britanny Harris?"),
    ("Which department has the largest number of employees?", "Find the department with the most employees."),
    ("How many courses are there in total?", "Count the number of courses."),
    ("List the names in descending order of age.", "List the names from the oldest to the youngest."),
    ("Stadiums with concerts in 2014 or after", "Stadiums with concerts after 2013"),
    ("Who is the best customer?", "Who is the top customer?"),
]


@pytest.mark.parametrize(("q1", "q2", "slot"), MUST_REFUSE)
def test_refuses_questions_that_differ_in_a_slot(q1: str, q2: str, slot: str) -> None:
    verdict = guard(q1, q2)
    assert not verdict.same and not verdict
    assert any(reason.startswith(slot) for reason in verdict.reasons), verdict.reasons


@pytest.mark.parametrize(("q1", "q2"), MUST_ACCEPT)
def test_accepts_paraphrases(q1: str, q2: str) -> None:
    verdict = guard(q1, q2)
    assert verdict.same, verdict.reasons
    assert verdict.reasons == []


@pytest.mark.parametrize(("q1", "q2", "slot"), MUST_REFUSE)
def test_guard_is_symmetric(q1: str, q2: str, slot: str) -> None:
    assert guard(q1, q2).same == guard(q2, q1).same


def test_slots_read_numbers_periods_and_values() -> None:
    slots = extract_slots("Show the top three 'Office Supplies' items with over 2,000 units sold yesterday")
    assert slots.numbers == {"3", "2000"}
    assert slots.extreme == {"max"}
    assert slots.comparison == {">"}
    assert slots.period == {"last:day"}
    assert slots.metric == {"quantity"}
    assert {"office", "supply"} <= slots.entities


def test_pronoun_one_is_not_a_number() -> None:
    assert extract_slots("List the dates starting from the most recent one.").numbers == set()
    assert extract_slots("Shops with more than one device").numbers == {"1"}


def test_lemma_strips_plurals() -> None:
    assert [lemma(w) for w in ("companies", "farms", "boxes", "IDs", "status", "customer's")] == \
        ["company", "farm", "box", "id", "status", "customer"]


def test_combine_refuses_if_any_guard_refuses() -> None:
    def catalogue(q1: str, q2: str) -> GuardVerdict:
        return GuardVerdict(same=False, reasons=["scope differs"])

    assert combine(guard, catalogue)("How many farms?", "Count the farms.").reasons == ["scope differs"]
    assert combine(guard)("How many farms are there?", "Count the number of farms.").same
    assert len(combine(guard, catalogue)("Top 5", "Top 10").reasons) >= 2


@dataclass(frozen=True)
class FakeWords:
    """Per-word vectors with a chosen geometry."""

    words: tuple[str, ...]
    word_vectors: np.ndarray


def _fake(words: tuple[str, ...], vectors: dict[str, list[float]]) -> FakeWords:
    matrix = np.array([vectors[w] for w in words], dtype=np.float32)
    return FakeWords(words, matrix / np.linalg.norm(matrix, axis=1, keepdims=True))


def test_align_scores_the_worst_matched_word() -> None:
    geometry = {"show": [1, 0, 0], "head": [0, 1, 0], "leader": [0, 0.8, 0.6], "source": [0, 0, 1],
                "destination": [0, 1, 0]}
    same = align("Show heads", _fake(("show", "head"), geometry), "Show heads", _fake(("show", "head"), geometry))
    assert same.score == 1.0 and same.weakest is None
    synonym = align("Show heads", _fake(("show", "head"), geometry),
                    "Show leaders", _fake(("show", "leader"), geometry))
    assert synonym.score == pytest.approx(0.8) and synonym.weakest[:2] in {("head", "leader"), ("leader", "head")}
    swapped = align("Show source", _fake(("show", "source"), geometry),
                    "Show destination", _fake(("show", "destination"), geometry))
    assert swapped.score == pytest.approx(0.0)


def test_align_without_counterpart_scores_zero() -> None:
    geometry = {"airline": [1.0, 0.0], "status": [0.0, 1.0]}
    result = align("How many airlines?", _fake(("airline",), geometry),
                   "How many airlines have status?", _fake(("airline", "status"), geometry))
    assert result.weakest == ("status", "airline", pytest.approx(0.0))
