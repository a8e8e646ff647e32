"""Reading participants' files defensively: size limits, encodings, strict JSON, readable values.

Every fault in a participant's file becomes a `SubmissionError` whose message names the file and the place.
"""

from __future__ import annotations

import codecs
import contextlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, TextIO

from evaluators.base import SubmissionError

MAX_SHOWN_CHARS = 80
ARCHIVE_NOISE = frozenset({"__MACOSX", "Thumbs.db", "desktop.ini"})
"""What archivers and file managers add beside the content (with every hidden name: `.DS_Store`, `._x`)."""


def is_archive_noise(name: str) -> bool:
    """True for an entry name no submission is made of: a hidden name or one of `ARCHIVE_NOISE`."""
    return name.startswith(".") or name in ARCHIVE_NOISE


def wrapping_folder(names: Sequence[str]) -> str | None:
    """The one rule for every archive the platform takes (submissions, algorithm code, task data, bundles):
    when every member that is not archiver noise (`is_archive_noise`, at the root) sits under one same top
    folder, and nothing else is at the root, that folder is the archive's root. It is what most archive tools
    make of a folder (`zip -r rankings.zip rankings`). Returns that folder's name, or None when the archive's
    own root is the root. `names` are the members' relative POSIX paths (files only)."""
    tops = {PurePosixPath(name).parts[0] for name in names}
    tops = {top for top in tops if not is_archive_noise(top)}
    if len(tops) != 1:
        return None
    top = tops.pop()
    return top if all(name != top for name in names) else None


def content_root(directory: Path) -> Path:
    """`wrapping_folder` on an unpacked directory: the one folder it holds when it holds nothing else but
    archiver noise, else `directory` itself. Offline, where a directory is given rather than an archive, the
    evaluators read it the same way."""
    try:
        entries = [entry for entry in directory.iterdir() if not is_archive_noise(entry.name)]
    except OSError:
        return directory  # the caller reports the unreadable directory in its own words
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        return entries[0]
    return directory


def safe_text(text: str) -> str:
    """`text` made fit for a message that is stored and printed as UTF-8: a lone surrogate (an undecodable
    byte of a file name, as `os.listdir` gives it, or `"\\ud800"` in JSON) becomes a backslash escape, and
    so does NUL (PostgreSQL's text columns refuse both: the message could not be stored)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def show(value: object) -> str:
    """A short, safe rendering of a participant's value for an error message (long values are cut)."""
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)
    if len(text) > MAX_SHOWN_CHARS:
        text = text[: MAX_SHOWN_CHARS - 3] + "..."
    return safe_text(text)


def json_type_name(value: object) -> str:
    """The JSON name of a parsed value's type, as a participant would call it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def read_text_file(path: Path, *, max_bytes: int, label: str) -> str:
    """The file's text, decoded as UTF-8 (a leading byte-order mark is dropped).

    Refuses a missing path, a directory and a file over `max_bytes` before reading it.
    """
    try:
        check_single_file(path, max_bytes=max_bytes, label=label)
        data = path.read_bytes()
    except OSError as exc:
        raise SubmissionError(f"{label}: cannot be read ({exc.strerror or exc})") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_utf8(label, data[exc.start], exc.start) from exc


def check_single_file(path: Path, *, max_bytes: int, label: str, expected: str = "a single file") -> None:
    """Refuses a directory, a missing path and a file over `max_bytes`, each with its own message (`expected`
    names what a directory is not, e.g. "a single CSV or parquet file"). May raise `OSError`."""
    if path.is_dir():
        raise SubmissionError(f"{label}: is a directory; {expected} is expected")
    if not path.is_file():
        raise SubmissionError(f"{label}: no such file")
    size = path.stat().st_size
    if size > max_bytes:
        raise SubmissionError(f"{label}: the file has {size} bytes, more than the limit of {max_bytes}")


def _not_utf8(label: str, byte: int, offset: int) -> SubmissionError:
    return SubmissionError(f"{label}: not UTF-8 text (invalid byte {byte:#04x} at byte offset {offset})")


_CHECK_CHUNK_BYTES = 1 << 20


def _utf8_fault(handle: BinaryIO) -> tuple[int, int] | None:
    """(byte offset, byte) of the first invalid UTF-8 byte of a file, reading it in bounded chunks; None if
    the whole file is valid. A leading byte-order mark is valid."""
    offset = 0  # of `pending`'s first byte in the file
    pending = b""
    while True:
        chunk = handle.read(_CHECK_CHUNK_BYTES)
        data = pending + chunk
        try:
            # final=False keeps a sequence cut by the chunk's end for the next round.
            _, consumed = codecs.utf_8_decode(data, "strict", not chunk)
        except UnicodeDecodeError as exc:
            return offset + exc.start, data[exc.start]
        if not chunk:
            return None
        offset, pending = offset + consumed, data[consumed:]


@contextlib.contextmanager
def open_text_file(path: Path, *, max_bytes: int, label: str) -> Iterator[TextIO]:
    """The file as a text stream for reading line by line, with the checks of `read_text_file` but without
    holding the file: UTF-8 (a leading byte-order mark dropped), lines split as `newline=""` splits them.

    Refuses a missing path, a directory and a file over `max_bytes` before reading it, and a file that is not
    UTF-8 text before yielding (one streaming pass), so that a decoding fault is reported as such, whatever
    the caller would find first; a read error while the caller reads becomes a `SubmissionError` too.
    """
    try:
        check_single_file(path, max_bytes=max_bytes, label=label)
        with path.open("rb") as binary:
            fault = _utf8_fault(binary)
        if fault is not None:
            raise _not_utf8(label, fault[1], fault[0])
        with path.open(encoding="utf-8-sig", newline="") as handle:
            yield handle
    except OSError as exc:
        raise SubmissionError(f"{label}: cannot be read ({exc.strerror or exc})") from exc


class JSONObject(dict[str, Any]):
    """A parsed JSON object that remembers the keys that appeared more than once (json keeps the last)."""

    duplicate_keys: list[str]


def _object_pairs(pairs: list[tuple[str, Any]]) -> JSONObject:
    obj = JSONObject()
    duplicates: list[str] = []
    for key, value in pairs:
        if key in obj and key not in duplicates:
            duplicates.append(key)
        obj[key] = value
    obj.duplicate_keys = duplicates
    return obj


def parse_json(text: str, *, label: str) -> Any:
    """Parse JSON text; objects come back as `JSONObject` (key order of the text, duplicates recorded).

    Hostile input (syntax errors, integers too long to convert, nesting deep enough to exhaust the
    recursion limit) becomes a `SubmissionError` naming the line and column where known.
    """
    try:
        return json.loads(text, object_pairs_hook=_object_pairs)
    except json.JSONDecodeError as exc:
        raise SubmissionError(f"{label}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from exc
    except RecursionError as exc:
        raise SubmissionError(f"{label}: not valid JSON for this benchmark: nested too deeply") from exc
    except ValueError as exc:
        # e.g. "Exceeds the limit (4300 digits) for integer string conversion"
        raise SubmissionError(f"{label}: not valid JSON for this benchmark: {exc}") from exc
