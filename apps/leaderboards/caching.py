"""Read-through caching of leaderboard reads in Django's default cache (local memory, or Redis when
`CACHE_URL` says so).

Keys name everything the cached value depends on (each board's id, version and rebuild time, the evaluator's
version, the task's data version, the weights...), so a changed leaderboard is read under a new key and a stale
value is never served; old keys simply expire. The rebuild time is in the key because ids and versions repeat
after a database is recreated (as they do between tests) while a shared cache lives on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

T = TypeVar("T")

TIMEOUT_SECONDS = 600
"""Values also expire: a team renamed since the last rebuild shows its new name after at most this long."""


def cache_key(prefix: str, *parts: object) -> str:
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return f"dataperf:{prefix}:{digest}"


def cached(key: str, compute: Callable[[], T]) -> T:
    """The cached value under `key`, computing and storing it on a miss."""
    found: T | None = cache.get(key)
    if found is not None:
        return found
    value = compute()
    cache.set(key, value, TIMEOUT_SECONDS)
    return value
