"""Memoised facts queries for ``offpeak backtest`` only — never for the nightly run.

The invariant. The backtest ingests every order line once, up front, and on the night with
cutoff C rebuilds ``sales_facts`` as exactly the lines dated before C; cutoffs only move forward,
so a later night's table holds the same lines dated before C plus lines dated C or later. Every
facts query reads only lines dated within its date arguments (the new-vs-returning query's
first-order day is a minimum over customers with a line in range, so it is no later than that
line). Hence a query whose date arguments all lie before the cutoff it was computed at returns
the same rows on every later night, and is served from memory. A query with a date argument at
or after the cutoff might see lines added later, and one with no date argument is not bounded
at all: both are always recomputed. (Signals queries are not worth it: their window ends the
day before the night, so it moves every night.)

The nightly pipeline must not use this: there, late-arriving orders may carry old dates.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date, datetime
from typing import Any, Sequence

import duckdb

MAX_ENTRIES = 20_000


class _Fetched:
    """The rows of one query, shaped like a DuckDB result (``fetchall`` only)."""

    def __init__(self, rows: list[tuple]) -> None:
        self._rows = rows

    def fetchall(self) -> list[tuple]:
        return list(self._rows)


class SettledQueryCache:
    """A connection stand-in for ``compute_facts`` that memoises the queries bounded before the
    current cutoff (see the module docstring), dropping the least recently used beyond
    ``max_entries``."""

    def __init__(self, con: duckdb.DuckDBPyConnection, max_entries: int = MAX_ENTRIES) -> None:
        self.con, self.max_entries = con, max_entries
        self.cutoff: date | None = None
        self.hits = 0
        self._rows: OrderedDict[tuple[str, tuple], list[tuple]] = OrderedDict()

    def advance(self, cutoff: date) -> None:
        """Move to the night whose ``sales_facts`` holds exactly the lines dated before ``cutoff``."""
        if self.cutoff is not None and cutoff < self.cutoff:
            raise ValueError(f"cutoff {cutoff} is before the previous one, {self.cutoff}")
        self.cutoff = cutoff

    def execute(self, sql: str, args: Sequence[Any] = ()) -> _Fetched:
        """``con.execute(sql, args)``, from memory when the query is settled."""
        key = (sql, tuple(args))
        rows = self._rows.get(key)
        if rows is not None:
            self._rows.move_to_end(key)
            self.hits += 1
            return _Fetched(rows)
        rows = self.con.execute(sql, list(args)).fetchall()
        if self._settled(key[1]):
            self._rows[key] = rows
            if len(self._rows) > self.max_entries:
                self._rows.popitem(last=False)
        return _Fetched(rows)

    def _settled(self, args: tuple) -> bool:
        """At least one date argument, all of them before the cutoff (a timestamp: never)."""
        if self.cutoff is None or any(isinstance(a, datetime) for a in args):
            return False
        days = [a for a in args if isinstance(a, date)]
        return bool(days) and max(days) < self.cutoff
