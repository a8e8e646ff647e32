"""A zip archive produced chunk by chunk, for streaming many (possibly large) files without a temporary copy."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

CHUNK = 1024 * 1024


class _Sink:
    """A write-only, unseekable file object that hands back what was written since the last `take`."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0

    def write(self, data: bytes, /) -> int:
        self._parts.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


def zip_stream(members: Iterable[tuple[str, Path | bytes]]) -> Iterator[bytes]:
    """Yield a zip archive of (name in archive, file on disk or content) pairs. Stored, not compressed: the
    data files (parquet) are compressed already, and storing keeps the CPU cost at a copy."""
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, content in members:
            if isinstance(content, bytes):
                archive.writestr(name, content)
                yield sink.take()
                continue
            with content.open("rb") as source, archive.open(name, mode="w", force_zip64=True) as target:
                while chunk := source.read(CHUNK):
                    target.write(chunk)
                    yield sink.take()
            yield sink.take()
    yield sink.take()
