"""The dashboard's only way to data: cached, read-only reads of the published snapshot.

* The snapshot is found through ``CURRENT`` under ``$OFFPEAK_HOME/snapshots`` on every run, so
  a newly published night is picked up at the next click; the working warehouse is never opened.
* One read-only DuckDB connection per snapshot file (``st.cache_resource``); each read uses its
  own cursor, because Streamlit serves sessions from several threads.
* Query results are cached per snapshot path (``st.cache_data`` with a TTL and a size bound); a
  snapshot never changes, so the TTL only bounds memory.
* What a user does (views, asks, hits, misses) goes to the append-only event spool.
"""

from __future__ import annotations

import os
import re
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Iterator

import duckdb
import pandas as pd
import streamlit as st

from dashboard.components import md_escape
from warehouse.storage import serving
from warehouse.storage.contract import SnapshotContractError, SnapshotMeta
from warehouse.storage.paths import OffpeakPaths, offpeak_paths
from warehouse.storage.question_log import MAX_QUESTION_CHARS
from warehouse.storage.semantic_layer import LAYER_ENV, active_layer
from warehouse.storage.events import Event, append_events
from warehouse.storage.snapshot import current_snapshot, open_snapshot
from warehouse.storage.users import Scope, User

if TYPE_CHECKING:
    from warehouse.language.matcher import AnswerIndex, Candidate

CACHE_TTL = "1h"
CACHE_ENTRIES = 256
LIVE_LLM_ENV = "OFFPEAK_LIVE_LLM"

_VIEWED_KEY = "_offpeak_viewed"


def paths() -> OffpeakPaths:
    """The Offpeak home the dashboard reads (``$OFFPEAK_HOME``, else the repo default)."""
    return offpeak_paths()


def snapshot_path() -> str | None:
    """The current published snapshot file, or None before the first night."""
    found = current_snapshot(paths().snapshots_dir)
    return str(found) if found else None


@st.cache_resource(max_entries=2, show_spinner=False)
def _connection(path: str) -> duckdb.DuckDBPyConnection:
    """One read-only connection per snapshot file; a new CURRENT means a new key."""
    return open_snapshot(path)


@contextmanager
def _reading(path: str) -> Iterator[duckdb.DuckDBPyConnection]:
    cursor = _connection(path).cursor()
    try:
        yield cursor
    finally:
        cursor.close()


@st.cache_data(ttl=CACHE_TTL, max_entries=CACHE_ENTRIES, show_spinner=False)
def _info(path: str) -> SnapshotMeta:
    with _reading(path) as con:
        return serving.snapshot_info(con)


def info(path: str) -> SnapshotMeta:
    """The snapshot's night, as-of date, freshness and next window (its contract's meta record);
    a snapshot whose meta breaks the contract stops the page with one line saying why."""
    try:
        return _info(path)
    except SnapshotContractError as exc:
        st.error(md_escape(f"The published snapshot cannot be read: {exc}"), icon=":material/error:")
        st.stop()


@st.cache_data(ttl=CACHE_TTL, max_entries=CACHE_ENTRIES, show_spinner=False)
def users(path: str) -> list[User]:
    """The users directory published with the snapshot."""
    with _reading(path) as con:
        return serving.list_users(con)


@st.cache_data(ttl=CACHE_TTL, max_entries=CACHE_ENTRIES, show_spinner=False)
def briefing(path: str, user_id: str) -> list[serving.AnswerCard]:
    """The user's briefing cards, best first, inside their scope."""
    with _reading(path) as con:
        return serving.briefing_for(con, user_id)


@st.cache_data(ttl=CACHE_TTL, max_entries=CACHE_ENTRIES, show_spinner=False)
def answer(path: str, answer_id: str, scope_key: str) -> serving.AnswerCard | None:
    """One answer if it lies inside the scope ``scope_key``."""
    with _reading(path) as con:
        return serving.answer_in_scope(con, answer_id, Scope.parse(scope_key))


@st.cache_data(ttl=CACHE_TTL, max_entries=CACHE_ENTRIES, show_spinner=False)
def answerable(path: str, scope_key: str) -> pd.DataFrame:
    """The questions answered last night inside the scope ``scope_key``."""
    with _reading(path) as con:
        return serving.answers_in_scope(con, Scope.parse(scope_key))


@st.cache_data(ttl=CACHE_TTL, max_entries=CACHE_ENTRIES, show_spinner=False)
def savings(path: str) -> tuple[serving.SavingsSummary, pd.DataFrame]:
    """Savings totals and the per-night series."""
    with _reading(path) as con:
        return serving.savings_summary(con), serving.savings_by_night(con)


@st.cache_data(ttl=CACHE_TTL, max_entries=CACHE_ENTRIES, show_spinner=False)
def llm_quality(path: str) -> pd.DataFrame:
    """The LLM replies of each night: parse failures and what the guard or verification kept."""
    with _reading(path) as con:
        return serving.llm_quality(con)


def review_learned(user: User, question: str, approve: bool) -> None:
    """An admin's decision on a learned phrasing, sent as a spool event (the app never writes the
    warehouse); the next night applies it."""
    if not user.may("admin"):
        raise PermissionError("only admins may approve or reject a learned phrasing")
    append_events(paths().spool_dir, [Event(user_id=user.user_id, question=question,
                                            kind="learned_approve" if approve else "learned_reject")])


@st.cache_data(ttl=CACHE_TTL, max_entries=CACHE_ENTRIES, show_spinner=False)
def energy(path: str) -> tuple[pd.DataFrame, pd.DataFrame, dict | None]:
    """Energy by night and tier, last night's answers by tier, and the measured live baseline."""
    with _reading(path) as con:
        return serving.energy_by_tier(con), serving.answers_by_tier(con), serving.live_baseline(con)


@st.cache_data(ttl=CACHE_TTL, max_entries=CACHE_ENTRIES, show_spinner=False)
def pipeline(path: str) -> dict[str, pd.DataFrame]:
    """Runs, asset runs, freshness, quarantine and the unmapped-question backlog."""
    with _reading(path) as con:
        return {
            "runs": serving.run_summary(con),
            "asset_runs": serving.pipeline_runs(con),
            "freshness": serving.asset_freshness(con),
            "quarantine": serving.quarantine_summary(con),
            "quarantine_sample": serving.quarantine_sample(con),
            "unmapped": serving.unmapped_backlog(con),
            "backlog": serving.backlog_results(con),
            "learned": serving.learned_phrasings(con),
        }


@st.cache_resource(max_entries=2, show_spinner="Loading last night's answers…")
def _answer_index(path: str) -> "AnswerIndex":
    """The matcher's index of the snapshot's answers (embeddings and entity names), built once."""
    from warehouse.language.matcher import AnswerIndex
    with _reading(path) as con:
        return AnswerIndex.from_snapshot(con)


# --- asking ------------------------------------------------------------------------------------

_WHITESPACE = re.compile(r"\s+")


def clean_question(text: str | None) -> str:
    """The question with control characters removed, whitespace collapsed and length capped
    (the text box caps typing too; this holds for any caller)."""
    kept = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text or "")
    return _WHITESPACE.sub(" ", kept).strip()[:MAX_QUESTION_CHARS].rstrip()


@dataclass(frozen=True)
class LiveAnswering:
    """Whether a live LLM answer may be offered, and why not when it may not."""

    requested: bool
    available: bool
    reason: str


def live_answering() -> LiveAnswering:
    """Live answers are opt-in (``OFFPEAK_LIVE_LLM=1``) and need a live answerer in this build.

    None ships yet, so a request is reported as unavailable rather than faked.
    """
    requested = os.environ.get(LIVE_LLM_ENV, "") == "1"
    if not requested:
        return LiveAnswering(False, False, f"Off by default; an admin can allow it with {LIVE_LLM_ENV}=1.")
    return LiveAnswering(True, False, f"{LIVE_LLM_ENV}=1 is set, but this build has no live "
                                      "answerer, so unmatched questions wait for tonight.")


@dataclass(frozen=True)
class AskOutcome:
    """What the Ask box did with one question."""

    question: str
    hit: bool
    card: serving.AnswerCard | None
    similarity: float | None
    understood: str
    candidates: tuple["Candidate", ...] = ()
    queued_reason: str | None = None
    live_card: serving.AnswerCard | None = None     # computed now by SQL, no AI model
    live_cpu_seconds: float | None = None
    learned: bool = False      # read through a phrasing learned overnight (no model ran now)


def ask(path: str, user: User, text: str) -> AskOutcome:
    """Match ``text`` against last night's answers in ``user``'s scope and record the outcome.

    A hit shows the stored answer (no live query). A question fully understood but not
    pre-computed is answered at once by SQL on the snapshot's order lines (no AI model, counted
    as ``live_sql``). Anything else is a miss, queued for tonight through the event spool. A
    matched answer outside the user's scope is treated as a miss.
    """
    from warehouse.language.live_sql import answer_now
    from warehouse.language.matcher import match_question

    question = clean_question(text)
    night = info(path)
    live = None
    layer = active_layer().fingerprint
    if night.semantic_layer != layer:   # another layer's words would mean other metrics
        reason = (f"this snapshot was computed with semantic layer {night.semantic_layer}, the dashboard "
                  f"runs {layer}: start it with the night's {LAYER_ENV}")
        append_events(paths().spool_dir, [Event(user_id=user.user_id, kind="miss", question=question)])
        return AskOutcome(question, False, None, None, "not matched: " + reason, queued_reason=reason)
    with _reading(path) as con:
        result = match_question(con, user, question, asked_on=night.as_of, index=_answer_index(path))
        card = answer(path, result.answer_id, user.scope.key()) if result.hit and result.answer_id else None
        if card is None and result.understanding is not None:
            live = answer_now(con, result.understanding, night=night.night, asked_on=night.as_of)
    live_card = serving.card_from_row(live.row) if live else None
    kind = "hit" if card else ("live_sql" if live_card else "miss")
    queued = None if card or live_card else (result.queued_reason or "the matched answer is outside your scope")
    append_events(paths().spool_dir, [Event(
        user_id=user.user_id, kind=kind, question=question,
        answer_id=card.answer_id if card else None, similarity=result.similarity)])
    return AskOutcome(question, card is not None, card, result.similarity,
                      result.understood, tuple(result.candidates), queued, live_card,
                      live.cpu_seconds if live else None,
                      learned=result.understanding is not None and result.understanding.origin == "learned")


def record_views(path: str, user_id: str, answer_ids: list[str]) -> int:
    """Append a 'view' event for each answer this session has not viewed yet; return how many."""
    seen: set[tuple[str, str]] = st.session_state.setdefault(_VIEWED_KEY, set())
    new = [a for a in answer_ids if (path, a) not in seen]
    append_events(paths().spool_dir, [Event(user_id=user_id, kind="view", answer_id=a) for a in new])
    seen.update((path, a) for a in new)
    return len(new)


def require_snapshot() -> str:
    """The current snapshot path; stop the page with a pointer to Getting started if none."""
    path = snapshot_path()
    if path is None:
        st.warning("No night has been published yet: run `make demo` or `offpeak night`.")
        st.stop()
    return path


def freshness(path: str) -> serving.Freshness:
    """How current the snapshot is today."""
    return serving.freshness(info(path), date.today())
