"""The JSON documents leaderboard reads serve (a board; its score history), encoded once per board version.

On a large board a read is dominated by the document, not by the decision to serve it: encoding grows with the
rows, and even unpickling the encoded bytes out of Django's cache grows with their size. So each process keeps
the documents it served last as bytes in its own memory (`LocalDocuments`, bounded by size and age), and the
shared cache (`caching`: Redis when `CACHE_URL` says so) spares the other processes the encoding. Keys are made
of everything a document depends on (`BoardRef.cache_parts`): a rebuilt board is read under new keys, and a stale
document is never served; a team's new name shows once the entry ages out (`caching.TIMEOUT_SECONDS`) or the
board is rebuilt.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, HttpResponseNotModified

from apps.leaderboards.caching import TIMEOUT_SECONDS, cache_key, cached
from apps.leaderboards.selectors import BoardRead, BoardRef, leaderboard_document, score_history
from apps.submissions.models import Score

BOARD = "board"
HISTORY = "history"


def encode(document: Any) -> bytes:
    """Compact JSON, as every leaderboard document is served."""
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


class LocalDocuments:
    """A process's most recently used documents, at most `max_bytes` in all and each at most `max_age` seconds
    old. Thread-safe (gunicorn's threaded workers share it)."""

    def __init__(self, *, max_bytes: int, max_age: float) -> None:
        self.max_bytes = max_bytes
        self.max_age = max_age
        self._entries: OrderedDict[tuple[object, ...], tuple[float, bytes]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> bytes | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            stored_at, body = found
            if time.monotonic() - stored_at > self.max_age:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return body

    def put(self, key: tuple[object, ...], body: bytes) -> None:
        if len(body) > self.max_bytes:
            return  # would evict everything else and still not fit
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (time.monotonic(), body)
            self._size += len(body)
            while self._size > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._size = 0

    def _drop(self, key: tuple[object, ...]) -> None:
        _, body = self._entries.pop(key)
        self._size -= len(body)


LOCAL = LocalDocuments(max_bytes=settings.LEADERBOARD_MEMORY_CACHE_MB * 1024 * 1024, max_age=TIMEOUT_SECONDS)


def _document(kind: str, ref: BoardRef | None, build: Callable[[], Any]) -> bytes:
    if ref is None:
        return encode(build())  # never built: an empty board, not worth keeping
    key = (kind, *ref.cache_parts())
    body = LOCAL.get(key)
    if body is None:
        body = cached(cache_key(kind, *key), lambda: encode(build()))
        LOCAL.put(key, body)
    return body


def board_json(read: BoardRead) -> bytes:
    """The board's document (`selectors.leaderboard_document`) as served."""

    def build() -> dict[str, Any]:
        task, division = read.load()
        return leaderboard_document(task=task, division=division, split=read.split)

    return _document(BOARD, read.ref, build)


def history_json(read: BoardRead) -> bytes:
    """The board's score history (`selectors.score_history`) as served."""

    def build() -> list[dict[str, Any]]:
        task, division = read.load()
        return score_history(task=task, division=division, split=read.split)

    return _document(HISTORY, read.ref, build)


def challenge_boards_json(challenge_slug: str, reads: list[BoardRead]) -> bytes:
    """The public boards of a challenge in one document, `{"challenge": slug, "boards": [board, ...]}`, made of
    the boards' own documents (each encoded once per version, as `board_json` serves it)."""
    boards = b",".join(board_json(read) for read in reads)
    return b'{"challenge":' + encode(challenge_slug) + b',"boards":[' + boards + b"]}"


def document_response(read: BoardRead, kind: str, *, if_none_match: str) -> HttpResponse:
    """A board's document (`kind`: BOARD or HISTORY) as a response: 304 when the reader's ETag (its
    If-None-Match header) is current (the document is not even looked up), else its bytes. Public boards may
    be kept by shared caches that revalidate; other splits are visible to some users only, kept by none."""
    etag = read.etag(kind)
    if etag in if_none_match:
        return HttpResponseNotModified(headers={"ETag": etag})
    body = board_json(read) if kind == BOARD else history_json(read)
    response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache" if read.split == Score.Split.PUBLIC else "private, no-cache"
    return response
