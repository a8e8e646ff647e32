"""Per-client throttles whose rates are read on each request (from REST_FRAMEWORK's DEFAULT_THROTTLE_RATES),
so that a settings change, in a test or a reload, applies at once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


def _rate(scope: str | None) -> str | None:
    rates: Mapping[str, Any] = api_settings.DEFAULT_THROTTLE_RATES
    rate = rates.get(scope or "")
    return None if rate is None else str(rate)


class AnonThrottle(AnonRateThrottle):
    """Anonymous clients, per IP address."""

    def get_rate(self) -> str | None:
        return _rate(self.scope)


class UserThrottle(UserRateThrottle):
    """Signed-in users (tokens and session together), per user."""

    def get_rate(self) -> str | None:
        return _rate(self.scope)
