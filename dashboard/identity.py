"""Who is looking, and what they may see.

The user comes from, in order:

1. an identity provider (``st.user`` when ``st.login`` is configured): the ``email``, then the
   ``preferred_username``, then the ``sub`` claim must equal a ``user_id`` in the users directory;
2. a trusted header set by an authenticating proxy, named by ``OFFPEAK_TRUSTED_HEADER``
   (e.g. ``X-Forwarded-Email``); when configured, nothing else is accepted. Only safe when the
   app is reachable solely through that proxy (bind Streamlit to 127.0.0.1 behind it);
3. demo mode only (``OFFPEAK_DEMO_MODE=1``, said on screen): a picker in the sidebar.

Anyone else sees a clear message and nothing else. The app resolves the identity once per run
and pages read it with :func:`viewer`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import streamlit as st

from dashboard.components import md_escape
from warehouse.storage.users import User

TRUSTED_HEADER_ENV = "OFFPEAK_TRUSTED_HEADER"
DEMO_MODE_ENV = "OFFPEAK_DEMO_MODE"
# Pages for users with one of these rights (the directory's ``access`` column).
PIPELINE_RIGHTS = ("admin", "data_engineer")
SAVINGS_RIGHTS = ("admin",)
RIGHT_LABELS = {"admin": "admin", "data_engineer": "data engineer"}
ROLE_LABELS = {
    "vp_sales": "VP of sales", "regional_manager": "regional manager",
    "category_manager": "category manager", "segment_lead": "segment lead",
    "sales_rep": "sales rep", "admin": "admin", "data_engineer": "data engineer",
}


def may_open(user: User, rights: tuple[str, ...]) -> bool:
    """True when the directory grants ``user`` one of ``rights``."""
    return any(user.may(right) for right in rights)


def role_label(user: User) -> str:
    """The role for reading: a built-in code's words, else the title as the directory wrote it."""
    return ROLE_LABELS.get(user.role, user.role)

_IDENTITY_KEY = "_offpeak_identity"
_PICKER_KEY = "demo_user"
_IDP_CLAIMS = ("email", "preferred_username", "sub")


@dataclass(frozen=True)
class Identity:
    """The outcome of identifying the person: a user, or the problem to show them."""

    user: User | None
    source: str
    problem: str | None = None
    can_log_in: bool = False


def _match(users: list[User], claims: list[str]) -> User | None:
    wanted = {c.strip().lower() for c in claims if c and c.strip()}
    return next((u for u in users if u.user_id.lower() in wanted), None)


def request_headers() -> dict[str, str]:
    """The headers of the request that opened this session (lower-cased names)."""
    return {k.lower(): v for k, v in st.context.headers.items()}


def demo_mode() -> bool:
    """True when ``OFFPEAK_DEMO_MODE=1``: anyone may pick any user."""
    return os.environ.get(DEMO_MODE_ENV, "") == "1"


def _from_identity_provider(users: list[User]) -> Identity:
    claims = [str(st.user.get(c) or "") for c in _IDP_CLAIMS]
    user = _match(users, claims)
    if user:
        return Identity(user, "identity provider")
    shown = next((c for c in claims if c), "an unnamed account")
    return Identity(None, "identity provider",
                    f"You are signed in as **{md_escape(shown)}**, who is not in Offpeak's users directory. "
                    "Ask an admin to add you to `users.csv`; the next night publishes it.")


def _from_header(users: list[User], header: str) -> Identity:
    value = request_headers().get(header.lower(), "")
    if not value:
        return Identity(None, f"header {header}",
                        f"This dashboard expects your identity in the `{header}` header from its "
                        "sign-in proxy, and this request has none. Open it through the proxy.")
    user = _match(users, [value])
    if user:
        return Identity(user, f"header {header}")
    return Identity(None, f"header {header}",
                    f"**{md_escape(value)}** is not in Offpeak's users directory. Ask an admin to add you to "
                    "`users.csv`; the next night publishes it.")


def _from_picker(users: list[User]) -> Identity:
    st.sidebar.warning("**Demo mode**: anyone can view as any user. Never set "
                       f"`{DEMO_MODE_ENV}=1` where real data is served.", icon=":material/science:")
    user = st.sidebar.selectbox("View as", users, key=_PICKER_KEY, format_func=describe)
    return Identity(user, "demo picker")


def resolve(users: list[User]) -> Identity:
    """Identify the person (see the module docstring) and remember it for this run's page."""
    header = os.environ.get(TRUSTED_HEADER_ENV, "").strip()
    if st.user.get("is_logged_in"):
        identity = _from_identity_provider(users)
    elif "is_logged_in" in st.user:
        identity = Identity(None, "identity provider", "Please log in to see your briefing.",
                            can_log_in=True)
    elif header:
        identity = _from_header(users, header)
    elif demo_mode():
        identity = _from_picker(users)
    else:
        identity = Identity(None, "none",
                            "Offpeak does not know who you are. An admin must put it behind an "
                            f"identity provider (`st.login`), set `{TRUSTED_HEADER_ENV}` to the "
                            f"header a sign-in proxy adds, or, for a demo, set `{DEMO_MODE_ENV}=1`.")
    st.session_state[_IDENTITY_KEY] = identity
    return identity


def current() -> Identity:
    """The identity resolved for this run (an empty one before :func:`resolve`)."""
    return st.session_state.get(_IDENTITY_KEY) or Identity(None, "none", "Not identified.")


def viewer(rights: tuple[str, ...] | None = None) -> User:
    """The user this page is for; stop the page with a message when unknown or without one of
    ``rights``."""
    user = current().user
    if user is None:
        st.error("Offpeak does not know who you are.", icon=":material/person_off:")
        st.stop()
    if rights is not None and not may_open(user, rights):
        allowed = " or ".join(RIGHT_LABELS.get(r, r) for r in rights)
        st.error(f"This page is for the {allowed} role (the users directory's access column); you are "
                 f"signed in as {md_escape(role_label(user))} without it.", icon=":material/lock:")
        st.stop()
    return user


def describe(user: User) -> str:
    """``Name · role · scope`` for the sidebar and the picker."""
    scope = "everything" if user.scope.is_everything else user.scope.key().replace(";", ", ")
    return f"{user.name} · {role_label(user)} · {scope}"
