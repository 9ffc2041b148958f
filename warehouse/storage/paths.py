"""Where Offpeak keeps its files: one home directory, configurable with ``OFFPEAK_HOME``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_HOME = REPO_ROOT / "warehouse" / "home"


@dataclass(frozen=True)
class OffpeakPaths:
    """The layout of an Offpeak home directory."""

    home: Path

    @property
    def warehouse_db(self) -> Path:
        """The working DuckDB file; only the nightly run writes it."""
        return self.home / "offpeak.duckdb"

    @property
    def drop_dir(self) -> Path:
        """Sales files (CSV, CSV.gz, Parquet) waiting to be ingested."""
        return self.home / "drop"

    @property
    def users_csv(self) -> Path:
        """The users directory: ``user_id,name,role,scope``."""
        return self.home / "users.csv"

    @property
    def question_log_dir(self) -> Path:
        """Question-log CSV files (``user_id,asked_at,question``) waiting to be ingested."""
        return self.home / "question_log"

    @property
    def snapshots_dir(self) -> Path:
        """Immutable published snapshots plus the ``CURRENT`` pointer file."""
        return self.home / "snapshots"

    @property
    def spool_dir(self) -> Path:
        """Append-only dashboard event files, one small file per event batch."""
        return self.home / "spool"

    @property
    def models_dir(self) -> Path:
        """Prepared local LLM directories (never downloaded at run time)."""
        return self.home / "models"

    def ensure(self) -> "OffpeakPaths":
        """Create every directory of the layout; return self."""
        for d in (self.home, self.drop_dir, self.question_log_dir, self.snapshots_dir,
                  self.spool_dir, self.models_dir):
            d.mkdir(parents=True, exist_ok=True)
        return self


def offpeak_paths(home: str | os.PathLike[str] | None = None) -> OffpeakPaths:
    """The paths under ``home``, else ``$OFFPEAK_HOME``, else ``warehouse/home`` in the repo."""
    chosen = home or os.environ.get("OFFPEAK_HOME") or DEFAULT_HOME
    return OffpeakPaths(Path(chosen).expanduser().resolve())
