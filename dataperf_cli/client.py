"""A small client of the platform's REST API on the standard library (urllib): JSON requests, a streamed
multipart upload with progress, and streamed downloads with HTTP ranges."""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from http.client import HTTPResponse
from pathlib import Path
from typing import Any

from dataperf_cli import __version__
from dataperf_cli.config import Config
from dataperf_cli.errors import ApiError, CliError

CHUNK = 1024 * 1024
Progress = Callable[[int, int], None]
"""`progress(done, total)` in bytes."""


def _error_body(error: urllib.error.HTTPError) -> dict[str, Any]:
    raw = error.read()
    try:
        body = json.loads(raw)
    except ValueError:
        text = raw.decode("utf-8", "replace").strip()
        return {"detail": text[:300] or error.reason}
    return body if isinstance(body, dict) else {"detail": str(body)}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect becomes an error the person can act on (log in with the final URL), never a silent hop that
    would drop (or, worse, carry) the token to another address."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class ApiClient:
    """Requests to `<url>/api/v1/...`, authenticated with the token, which is only ever sent to the
    configured server: no redirect is followed, and a URL outside it is refused."""

    def __init__(self, config: Config, *, timeout: float = 120.0) -> None:
        self.base = config.url.rstrip("/")
        self.token = config.token
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirects)

    def api_url(self, path: str, params: Mapping[str, str] | None = None) -> str:
        url = f"{self.base}/api/v1/{path.lstrip('/')}"
        query = {key: value for key, value in (params or {}).items() if value}
        return f"{url}?{urllib.parse.urlencode(query)}" if query else url

    def open(
        self, method: str, url: str, *, data: Any = None, headers: Mapping[str, str] | None = None
    ) -> HTTPResponse:
        """Send a request; raise `ApiError` for an error status and `CliError` when the server is unreachable,
        redirects, or `url` is not on the configured server."""
        if not url.startswith(self.base + "/"):
            raise CliError(f"refusing to send your token to {url}: it is not on {self.base}")
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - the user's own server URL
        request.add_header("User-Agent", f"dataperf-cli/{__version__}")
        request.add_header("Accept", "application/json")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        request.add_unredirected_header("Authorization", f"Token {self.token}")
        try:
            response: HTTPResponse = self._opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            if 300 <= error.code < 400:
                target = error.headers.get("Location", "elsewhere")
                raise CliError(f"{self.base} redirects to {target}: log in with the platform's final URL") from None
            raise ApiError(error.code, _error_body(error)) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise CliError(f"cannot reach {self.base}: {reason}") from None
        return response

    def _json(self, method: str, url: str, *, data: Any = None, headers: Mapping[str, str] | None = None) -> Any:
        with self.open(method, url, data=data, headers=headers) as response:
            return json.loads(response.read() or b"null")

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        return self._json("GET", self.api_url(path, params))

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        data = json.dumps(body).encode()
        return self._json("POST", self.api_url(path), data=data, headers={"Content-Type": "application/json"})

    def upload(
        self, path: str, fields: Mapping[str, str], files: Mapping[str, Path], progress: Progress
    ) -> tuple[int, Any]:
        """POST a multipart form, streaming the files from disk; return (status, JSON body). A 422 (a
        submission rejected by validation) is an answer here, not an error."""
        boundary = "dataperf-" + secrets.token_hex(16)
        parts, total = _multipart(fields, files, boundary)
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(total)}
        try:
            with self.open("POST", self.api_url(path), data=_stream(parts, total, progress), headers=headers) as r:
                return r.status, json.loads(r.read())
        except ApiError as error:
            if error.status == 422:
                return error.status, error.body
            raise


def _quoted(value: str) -> str:
    return value.replace("\r", "").replace("\n", "").replace('"', "%22")


def _multipart(fields: Mapping[str, str], files: Mapping[str, Path], boundary: str) -> tuple[list[bytes | Path], int]:
    parts: list[bytes | Path] = []
    for name, value in fields.items():
        header = f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"\r\n\r\n'
        parts.append(header.encode() + value.encode() + b"\r\n")
    for name, file_path in files.items():
        header = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"; '
            f'filename="{_quoted(file_path.name)}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        parts += [header.encode(), file_path, b"\r\n"]
    parts.append(f"--{boundary}--\r\n".encode())
    total = sum(part.stat().st_size if isinstance(part, Path) else len(part) for part in parts)
    return parts, total


def _stream(parts: list[bytes | Path], total: int, progress: Progress) -> Iterator[bytes]:
    sent = 0
    for part in parts:
        if isinstance(part, bytes):
            sent += len(part)
            yield part
            continue
        with part.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                sent += len(chunk)
                progress(sent, total)
                yield chunk
    progress(sent, total)
