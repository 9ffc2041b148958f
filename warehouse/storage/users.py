"""The users directory (``user_id,name,role,scope``) and the scope each user may read."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from warehouse.storage.canonical import DIMENSION_COLUMNS

USER_COLUMNS = ("user_id", "name", "role", "scope")
ROLES = ("vp_sales", "regional_manager", "category_manager", "segment_lead", "sales_rep",
         "admin", "data_engineer")
ADMIN_ROLES = ("admin",)


class UsersFileError(ValueError):
    """The users directory is malformed; the message names the line and what to fix."""


@dataclass(frozen=True)
class Scope:
    """A conjunction of ``column=value`` filters over canonical columns; empty means everything."""

    filters: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> "Scope":
        """Parse ``*`` or ``col=value;col=value``; raise ValueError naming what is wrong."""
        text = (text or "").strip()
        if text in ("*", ""):
            if text == "":
                raise ValueError("empty scope: write '*' for everything or column=value pairs")
            return cls()
        pairs: dict[str, str] = {}
        for part in text.split(";"):
            if "=" not in part:
                raise ValueError(f"scope part {part.strip()!r} is not column=value")
            column, value = (s.strip() for s in part.split("=", 1))
            if column not in DIMENSION_COLUMNS:
                raise ValueError(f"unknown scope column {column!r}; use one of {', '.join(DIMENSION_COLUMNS)}")
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


@dataclass(frozen=True)
class User:
    user_id: str
    name: str
    role: str
    scope: Scope = field(default_factory=Scope)

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES


def parse_users(text: str, source: str = "users.csv") -> list[User]:
    """Parse users-directory CSV text; raise UsersFileError naming the bad line."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise UsersFileError(f"{source}: empty file; expected header {','.join(USER_COLUMNS)}")
    header = [h.strip() for h in header]
    if tuple(header) != USER_COLUMNS:
        raise UsersFileError(f"{source}: header is {','.join(header)!r}; expected {','.join(USER_COLUMNS)}")
    users: list[User] = []
    seen: set[str] = set()
    for line_no, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != 4:
            raise UsersFileError(f"{source} line {line_no}: expected 4 fields, got {len(row)}")
        user_id, name, role, scope_text = (c.strip() for c in row)
        if not user_id:
            raise UsersFileError(f"{source} line {line_no}: empty user_id")
        if user_id in seen:
            raise UsersFileError(f"{source} line {line_no}: user_id {user_id!r} appears twice")
        if role not in ROLES:
            raise UsersFileError(f"{source} line {line_no}: unknown role {role!r}; use one of {', '.join(ROLES)}")
        try:
            scope = Scope.parse(scope_text)
        except ValueError as exc:
            raise UsersFileError(f"{source} line {line_no}: {exc}") from None
        seen.add(user_id)
        users.append(User(user_id, name or user_id, role, scope))
    return users


def read_users(path: str | Path) -> list[User]:
    """Read and validate a users-directory CSV file."""
    path = Path(path)
    if not path.exists():
        raise UsersFileError(f"{path}: no users directory; write one with header {','.join(USER_COLUMNS)}")
    return parse_users(path.read_text(encoding="utf-8-sig"), source=str(path))


def users_to_csv(users: list[User]) -> str:
    """The users directory as CSV text (the inverse of :func:`parse_users`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(USER_COLUMNS)
    for u in users:
        writer.writerow([u.user_id, u.name, u.role, u.scope.key()])
    return out.getvalue()


def store_users(con: duckdb.DuckDBPyConnection, users: list[User]) -> None:
    """Replace the ``users`` table with ``users``, all or nothing: the one copy the night reads."""
    con.execute("BEGIN")
    try:
        con.execute("DELETE FROM users")
        con.executemany("INSERT INTO users VALUES (?, ?, ?, ?)",
                        [(u.user_id, u.name, u.role, u.scope.key()) for u in users])
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def load_users(con: duckdb.DuckDBPyConnection) -> list[User]:
    """The directory as the ``users`` asset stored it, by ``user_id``."""
    rows = con.execute("SELECT user_id, name, role, scope FROM users ORDER BY user_id").fetchall()
    return [User(user_id, name or user_id, role, Scope.parse(scope)) for user_id, name, role, scope in rows]
