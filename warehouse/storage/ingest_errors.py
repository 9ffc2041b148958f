"""Why a sales file is rejected whole: each error's docstring says what to do about it."""

from __future__ import annotations


class IngestError(Exception):
    """A sales file was rejected whole; nothing of it was written."""


class MissingColumnsError(IngestError):
    """The file lacks columns its layout requires; add them (or fix the header) and drop it again."""


class UnreadableFileError(IngestError):
    """The file cannot be read as CSV, CSV.gz or Parquet; re-export it and drop it again."""


class UndecodableFileError(UnreadableFileError):
    """The file's bytes are not UTF-8, UTF-16 (with BOM) or Windows-1252/Latin-1 text; re-export it
    as UTF-8 (or declare its encoding)."""


class EveryRowQuarantinedError(IngestError):
    """Not one row of the file could be loaded; fix the rows named in the message and drop it again."""
