"""The users directory (``user_id,name,role,scope`` and optionally ``access``) and the scope each
user may read.

A role is free text, as a directory export writes it ("VP of Sales", "Regional Sales Director -
West"). A title the product knows maps, case-insensitively and word for word, to one of the
built-in personas (``PERSONAS``), whose usual questions seed a new user's briefing; any other title
is kept as written and forms its own peer group. Nothing is guessed from a title: admin and
data-engineer rights come only from the ``access`` column (``admin``, ``data_engineer``, both
separated by ``;``, or empty). A file without that column is the older four-column form, whose
role column holds the product's own codes: there, the codes ``admin`` and ``data_engineer``
grant their right.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from warehouse.storage.canonical import DIMENSION_COLUMNS
from warehouse.storage.semantic_layer import active_layer

USER_COLUMNS = ("user_id", "name", "role", "scope")
ACCESS_COLUMN = "access"
ROLES = ("vp_sales", "regional_manager", "category_manager", "segment_lead", "sales_rep",
         "admin", "data_engineer")
PERSONAS = ROLES
ACCESS_RIGHTS = ("admin", "data_engineer")
MAX_ROLE_CHARS = 120

# Job titles, normalised (lower case, words only), that mean a built-in persona. Exact match only.
TITLE_PERSONAS: dict[str, str] = {
    **{title: "vp_sales" for title in (
        "vp sales", "vp of sales", "svp sales", "svp of sales", "evp sales", "evp of sales",
        "vice president sales", "vice president of sales", "senior vice president of sales",
        "head of sales", "chief sales officer", "chief revenue officer", "sales vp",
        "vp sales and marketing", "vp of sales and marketing", "director of sales", "sales director",
        "vp commercial", "commercial director", "national sales manager", "national sales director")},
    **{title: "regional_manager" for title in (
        "regional manager", "regional sales manager", "regional director", "regional sales director",
        "regional vp", "regional vice president", "regional sales lead", "regional lead",
        "area manager", "area sales manager", "area director", "area sales director",
        "regional head", "head of region", "regional head of sales")},
    **{title: "category_manager" for title in (
        "category manager", "category lead", "category director", "category head",
        "head of category", "senior category manager", "product category manager")},
    **{title: "segment_lead" for title in (
        "segment lead", "segment manager", "segment head", "segment director", "head of segment")},
    **{title: "sales_rep" for title in (
        "sales rep", "sales representative", "account executive", "account manager",
        "sales associate", "sales executive", "inside sales representative", "inside sales rep",
        "field sales representative", "field sales rep", "key account manager", "territory manager",
        "senior account executive", "sales consultant", "business development representative")},
}
_QUALIFIER = re.compile(r"\s+[-\u2013\u2014|/]\s+.*$|\s*[(,].*$")


class UsersFileError(ValueError):
    """The users directory is malformed; the message names the line and what to fix."""


@dataclass(frozen=True)
class Scope:
    """A conjunction of ``column=value`` filters over canonical columns; empty means everything."""

    filters: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> "Scope":
        """Parse ``*`` or ``col=value;col=value`` (a column of the line layout, or a dimension of
        the semantic layer: ``area=West`` where ``area`` reads ``region``); raise ValueError
        naming what is wrong."""
        text = (text or "").strip()
        if text in ("*", ""):
            if text == "":
                raise ValueError("empty scope: write '*' for everything or column=value pairs")
            return cls()
        pairs: dict[str, str] = {}
        for part in text.split(";"):
            if "=" not in part:
                raise ValueError(f"scope part {part.strip()!r} is not column=value")
            named, value = (s.strip() for s in part.split("=", 1))
            column = _scope_column(named)
            if not value:
                raise ValueError(f"scope column {column!r} has an empty value")
            if column in pairs and pairs[column] != value:
                raise ValueError(f"scope names {column!r} twice with different values")
            pairs[column] = value
        return cls(tuple(sorted(pairs.items())))

    @property
    def is_everything(self) -> bool:
        return not self.filters

    def as_dict(self) -> dict[str, str]:
        return dict(self.filters)

    def key(self) -> str:
        """A stable text form, ``*`` for everything."""
        return ";".join(f"{c}={v}" for c, v in self.filters) or "*"

    def contains(self, other: "Scope") -> bool:
        """True when every row ``other`` allows is also allowed by this scope."""
        theirs = other.as_dict()
        return all(theirs.get(c) == v for c, v in self.filters)

    def narrowed(self, extra: dict[str, str]) -> "Scope | None":
        """This scope with ``extra`` filters added; None when they contradict it (out of scope)."""
        merged = self.as_dict()
        for c, v in extra.items():
            if c in merged and merged[c] != v:
                return None
            merged[c] = v
        return Scope(tuple(sorted(merged.items())))

    def __str__(self) -> str:
        return self.key()


def normalise_title(role: str) -> str:
    """A title's words in lower case: qualifiers after " - ", "," or "(" dropped, "&" read as
    "and", punctuation as spaces (``"VP of Sales & Marketing - EMEA"`` -> ``"vp of sales and marketing"``)."""
    text = _QUALIFIER.sub("", role.strip()).lower().replace("&", " and ")
    return " ".join(re.sub(r"[^\w]+", " ", text).replace("_", " ").split())


def persona_of(role: str) -> str | None:
    """The built-in persona a role names (a persona code or a known title), else None."""
    code = role.strip().lower().replace(" ", "_")
    if code in PERSONAS:
        return code
    return TITLE_PERSONAS.get(normalise_title(role))


def parse_access(text: str) -> frozenset[str]:
    """The rights an ``access`` cell grants (``admin;data_engineer``, empty = none)."""
    rights = {part.strip().lower() for part in (text or "").replace(",", ";").split(";") if part.strip()}
    unknown = sorted(rights - set(ACCESS_RIGHTS) - {"none"})
    if unknown:
        raise ValueError(f"unknown access {', '.join(map(repr, unknown))}; use {', '.join(ACCESS_RIGHTS)} or leave it empty")
    return frozenset(rights - {"none"})


@dataclass(frozen=True)
class User:
    """One person in the directory: the role as written, the scope they read, their rights."""

    user_id: str
    name: str
    role: str
    scope: Scope = field(default_factory=Scope)
    access: frozenset[str] = frozenset()

    @property
    def persona(self) -> str | None:
        """The built-in persona the role names, or None (a title the product does not know)."""
        return persona_of(self.role)

    @property
    def peer_group(self) -> str:
        """Who this user's peers are: the persona, else everyone with the same (normalised) title."""
        return self.persona or f"title:{normalise_title(self.role)}"

    @property
    def role_label(self) -> str:
        """The role for reading: the persona's words, else the title as written."""
        persona = self.persona
        return persona.replace("_", " ") if persona and persona == self.role else self.role

    def may(self, right: str) -> bool:
        """True when the directory grants ``right`` (``admin`` or ``data_engineer``)."""
        return right in self.access

    @property
    def is_admin(self) -> bool:
        return self.may("admin")


def parse_users(text: str, source: str = "users.csv") -> list[User]:
    """Parse users-directory CSV text; raise UsersFileError naming the bad line."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise UsersFileError(f"{source}: empty file; expected header {','.join(USER_COLUMNS)}")
    header = [h.strip().lower() for h in header]
    wanted = (*USER_COLUMNS, ACCESS_COLUMN)
    if header[:4] != list(USER_COLUMNS) or header[4:] not in ([], [ACCESS_COLUMN]):
        raise UsersFileError(f"{source}: header is {','.join(header)!r}; expected {','.join(USER_COLUMNS)} "
                             f"or {','.join(wanted)}")
    has_access = len(header) == len(wanted)
    users: list[User] = []
    seen: set[str] = set()
    for line_no, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise UsersFileError(f"{source} line {line_no}: expected {len(header)} fields, got {len(row)}")
        user_id, name, role, scope_text, *rest = (c.strip() for c in row)
        if not user_id:
            raise UsersFileError(f"{source} line {line_no}: empty user_id")
        if user_id in seen:
            raise UsersFileError(f"{source} line {line_no}: user_id {user_id!r} appears twice")
        if not role or len(role) > MAX_ROLE_CHARS or not role.isprintable():
            raise UsersFileError(f"{source} line {line_no}: role must be printable text of 1 to "
                                 f"{MAX_ROLE_CHARS} characters")
        try:
            scope = Scope.parse(scope_text)
            access = parse_access(rest[0]) if has_access else frozenset({role} & set(ACCESS_RIGHTS))
        except ValueError as exc:
            raise UsersFileError(f"{source} line {line_no}: {exc}") from None
        seen.add(user_id)
        users.append(User(user_id, name or user_id, role, scope, access))
    return users


def read_users(path: str | Path) -> list[User]:
    """Read and validate a users-directory CSV file."""
    path = Path(path)
    if not path.exists():
        raise UsersFileError(f"{path}: no users directory; write one with header {','.join(USER_COLUMNS)}")
    return parse_users(path.read_text(encoding="utf-8-sig"), source=str(path))


def _scope_column(name: str) -> str:
    """The line column a scope key names: itself, or the column of the layer's dimension ``name``."""
    if name in DIMENSION_COLUMNS:
        return name
    dimensions = active_layer().dimensions
    if name in dimensions:
        return dimensions[name].column
    raise ValueError(f"unknown scope column {name!r}; use a dimension ({', '.join(dimensions)}) "
                     f"or a column ({', '.join(DIMENSION_COLUMNS)})")


def users_to_csv(users: list[User]) -> str:
    """The users directory as CSV text (the inverse of :func:`parse_users`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*USER_COLUMNS, ACCESS_COLUMN))
    for u in users:
        writer.writerow(user_row(u))
    return out.getvalue()


def user_row(user: User) -> tuple[str, str, str, str, str]:
    """The ``users`` table's row of ``user``: id, name, role, scope key, access (``;``-joined)."""
    return (user.user_id, user.name, user.role, user.scope.key(), ";".join(sorted(user.access)))


def user_from_row(row: tuple) -> User:
    """The inverse of :func:`user_row`; raise ValueError when its scope or access is malformed."""
    user_id, name, role, scope, access = row
    return User(user_id, name or user_id, role, Scope.parse(scope), parse_access(access or ""))


USER_SELECT = "SELECT user_id, name, role, scope, access FROM users"


def store_users(con: duckdb.DuckDBPyConnection, users: list[User]) -> None:
    """Replace the ``users`` table with ``users``, all or nothing: the one copy the night reads."""
    con.execute("BEGIN")
    try:
        con.execute("DELETE FROM users")
        con.executemany("INSERT INTO users (user_id, name, role, scope, access) VALUES (?, ?, ?, ?, ?)",
                        [user_row(u) for u in users])
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def load_users(con: duckdb.DuckDBPyConnection) -> list[User]:
    """The directory as the ``users`` asset stored it, by ``user_id``."""
    return [user_from_row(row) for row in con.execute(f"{USER_SELECT} ORDER BY user_id").fetchall()]
