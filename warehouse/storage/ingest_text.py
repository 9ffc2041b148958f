"""The text of a sales CSV: detect its encoding, check it decodes, give DuckDB UTF-8 to read.

Detection, in order: a byte-order mark (UTF-8, UTF-16 LE/BE); else valid UTF-8; else
Windows-1252 (a superset of Latin-1's printable characters). A file with NUL bytes (binary, or
UTF-16 without a BOM), one that looks like UTF-8 with corrupt bytes (more valid multi-byte
characters than invalid bytes), or one with bytes undefined in Windows-1252 cannot be decoded and
is rejected whole. Anything but plain UTF-8 is transcoded to a temporary UTF-8 copy first.
"""

from __future__ import annotations

import codecs
import gzip
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from warehouse.storage.ingest_errors import UndecodableFileError, UnreadableFileError

_CHUNK = 1 << 20
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 with BOM"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16 LE"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16 BE"),
)
_INVALID = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8, under surrogateescape
_NON_ASCII = re.compile("[^\x00-\x7f]")


@dataclass(frozen=True)
class CsvText:
    """A UTF-8 CSV DuckDB can read: the original file or a transcoded copy."""

    path: Path
    encoding: str  # what the original was: 'UTF-8', 'UTF-16 LE', 'Windows-1252', a declared name
    size: int      # bytes of UTF-8 text: no record can be longer


def csv_text(path: Path, workdir: Path, encoding: str | None = None) -> CsvText:
    """Check that ``path`` decodes (as ``encoding`` if declared, else detected) and return the
    UTF-8 text DuckDB should read; raise UnreadableFileError / UndecodableFileError."""
    try:
        if encoding:
            codec, label = codecs.lookup(encoding).name, encoding
        else:
            codec, label, size = _detect(path)
            if codec == "utf-8":
                return CsvText(path, label, size)
        target = workdir / "transcoded.csv"
        return CsvText(target, label, _transcode(path, codec, label, target))
    except (OSError, EOFError, zlib.error) as exc:  # a bad gzip stream, an unreadable file
        kind = "CSV.gz" if _is_gzip(path) else "CSV"
        raise UnreadableFileError(f"{path.name}: cannot be read as {kind}: {_one_line(exc)}") from None


def _is_gzip(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _chunks(path: Path) -> Iterator[bytes]:
    """The file's (decompressed) bytes in 1 MiB pieces."""
    stream: BinaryIO = gzip.open(path, "rb") if _is_gzip(path) else path.open("rb")
    with stream:
        while chunk := stream.read(_CHUNK):
            yield chunk


def _undecodable(path: Path, problem: str) -> UndecodableFileError:
    return UndecodableFileError(f"{path.name}: cannot be decoded: {problem}; re-export it as UTF-8 "
                                "(or declare its encoding)")


def _detect(path: Path) -> tuple[str, str, int]:
    """(Python codec, label, size in bytes) of the file's text, from a BOM or one pass over it."""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    fed = invalid = valid_non_ascii = 0
    first_invalid: int | None = None
    for chunk in _chunks(path):
        if fed == 0:
            for bom, codec, label in _BOMS:
                if chunk.startswith(bom):
                    return codec, label, 0
        if (nul := chunk.find(b"\x00")) >= 0:
            raise _undecodable(path, f"NUL byte at byte {fed + nul:,} (binary data, or UTF-16 "
                                     "without a byte-order mark)")
        start = fed - len(decoder.getstate()[0])
        fed += len(chunk)
        text = decoder.decode(chunk)
        if text.isascii():
            continue
        bad = _INVALID.findall(text)
        if bad and first_invalid is None:
            index = _INVALID.search(text).start()
            first_invalid = start + len(text[:index].encode("utf-8", "surrogateescape"))
        invalid += len(bad)
        valid_non_ascii += len(_NON_ASCII.findall(text)) - len(bad)
    invalid += len(_INVALID.findall(decoder.decode(b"", final=True)))
    if not invalid:
        return "utf-8", "UTF-8", fed
    if valid_non_ascii > invalid:
        raise _undecodable(path, f"UTF-8 with {invalid:,} invalid byte(s), the first at byte "
                                 f"{first_invalid or 0:,}")
    return "cp1252", "Windows-1252", fed


def _transcode(path: Path, codec: str, label: str, target: Path) -> int:
    """Write the file's text as UTF-8 to ``target``; return its size in bytes."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    fed = 0
    with target.open("w", encoding="utf-8", newline="") as out:
        for chunk in _chunks(path):
            start = fed - len(decoder.getstate()[0])
            fed += len(chunk)
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                what = "neither UTF-8 nor Windows-1252/Latin-1" if codec == "cp1252" else f"not valid {label}"
                raise _undecodable(path, f"{what} (byte 0x{exc.object[exc.start]:02X} at byte "
                                         f"{start + exc.start:,})") from None
            _no_nul(path, text, label)
            out.write(text)
        try:
            tail = decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise _undecodable(path, f"not valid {label}: it ends in the middle of a character") from None
        _no_nul(path, tail, label)
        out.write(tail)
    return target.stat().st_size


def _no_nul(path: Path, text: str, label: str) -> None:
    if "\x00" in text:
        raise _undecodable(path, f"NUL characters in its {label} text (binary data?)")
