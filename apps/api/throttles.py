"""Per-client throttles whose rates are read on each request (from REST_FRAMEWORK's DEFAULT_THROTTLE_RATES),
so that a settings change, in a test or a reload, applies at once, and that count requests in fixed windows.

DRF's own throttles keep the time of every request of the last period in a list they read, rewrite and pickle
on each request (up to 1,000 entries at 1,000/hour, for every API request); a counter per client and window
costs one increment (Redis INCR when `CACHE_URL` names Redis). The price: across a window's boundary a client
can send up to twice its rate in a short time, which a ceiling against abuse allows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

if TYPE_CHECKING:  # rest_framework.views loads the throttle classes named in the settings: this module
    from rest_framework.request import Request
    from rest_framework.views import APIView


def _rate(scope: str | None) -> str | None:
    rates: Mapping[str, Any] = api_settings.DEFAULT_THROTTLE_RATES
    rate = rates.get(scope or "")
    return None if rate is None else str(rate)


class WindowCounter(SimpleRateThrottle):
    """At most `num_requests` per client in each window of `duration` seconds (windows aligned on the epoch)."""

    num_requests: int  # set from the rate by SimpleRateThrottle.__init__ (the stubs leave them out)
    duration: int
    window_end = 0.0

    def allow_request(self, request: Request, view: APIView) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self.window_end = (window + 1) * self.duration
        key = f"{self.key}:{window}"
        self.cache.add(key, 0, self.duration + 1)
        try:
            count = self.cache.incr(key)
        except ValueError:  # the counter expired between add and incr: this request starts it again
            self.cache.add(key, 1, self.duration + 1)
            count = 1
        return bool(count <= self.num_requests)

    def wait(self) -> float:
        """Seconds until the window ends (the Retry-After of a throttled request)."""
        return max(0.0, self.window_end - self.timer())


class AnonThrottle(WindowCounter, AnonRateThrottle):
    """Anonymous clients, per IP address."""

    def get_rate(self) -> str | None:
        return _rate(self.scope)


class UserThrottle(WindowCounter, UserRateThrottle):
    """Signed-in users (tokens and session together), per user."""

    def get_rate(self) -> str | None:
        return _rate(self.scope)
