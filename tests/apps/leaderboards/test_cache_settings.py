"""CACHE_URL: local memory by default, Django's RedisCache for redis://, a loud error for anything else."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from dataperf_site.settings import _caches


def test_the_default_cache_is_local_memory() -> None:
    assert _caches("")["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_a_redis_url_selects_djangos_redis_cache() -> None:
    assert _caches("redis://cache:6379/1") == {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://cache:6379/1"}
    }


@pytest.mark.parametrize("url", ["memcached://x:11211", "redis", "http://cache"])
def test_an_unsupported_cache_url_fails_loudly(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL"):
        _caches(url)
