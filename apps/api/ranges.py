"""Serving a stored file with HTTP range requests (RFC 9110 section 14), so that an interrupted download
resumes where it stopped. One range per request; a multi-range request gets the whole file (allowed)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

from apps.core.files import CHUNK

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class Unsatisfiable(Exception):
    """The range starts past the end of the file (416)."""


def parse_range(header: str, size: int) -> ByteRange | None:
    """The single byte range a Range header asks for, clipped to the file; None to send the whole file
    (no header, a syntax this server ignores, or several ranges). Raises `Unsatisfiable`."""
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first:
        if not last:
            return None
        suffix = int(last)  # the last N bytes
        if suffix == 0:
            raise Unsatisfiable
        return ByteRange(max(size - suffix, 0), size - 1) if size else None
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if last and int(last) < start:
        return None  # syntactically invalid: ignored, as the RFC says
    if start >= size:
        raise Unsatisfiable
    return ByteRange(start, end)


def _read(path: Path, byte_range: ByteRange) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(byte_range.start)
        remaining = byte_range.length
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


def file_response(*, path: Path, filename: str, etag: str, range_header: str, if_range: str) -> HttpResponseBase:
    """The whole file (200), the requested part (206), or 416; `etag` is a strong validator for If-Range.

    A resumed download sends `If-Range` with the ETag it started with: if the file changed meanwhile, the
    whole new file is sent instead of a part of it spliced onto the old bytes.
    """
    size = path.stat().st_size
    byte_range = None
    if range_header and (not if_range or if_range == etag):
        try:
            byte_range = parse_range(range_header, size)
        except Unsatisfiable:
            return HttpResponse(
                status=416, headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes", "ETag": etag}
            )
    response: StreamingHttpResponse
    if byte_range is None:
        response = FileResponse(path.open("rb"), as_attachment=True, filename=filename, content_type=CONTENT_TYPE)
    else:
        response = StreamingHttpResponse(_read(path, byte_range), status=206, content_type=CONTENT_TYPE)
        response["Content-Range"] = f"bytes {byte_range.start}-{byte_range.end}/{size}"
        response["Content-Length"] = str(byte_range.length)
        response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    return response
