"""Throttling per anonymous client and per user, at rates read from the settings on each request."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from pytest_django.fixtures import Settings

from apps.api.throttles import WindowCounter
from tests.api.conftest import World


class Clock:
    """The throttles' clock, moved by the test: no window boundary falls between two requests by chance."""

    def __init__(self) -> None:
        self.now = 3600.0 * 300_000 + 20  # 20 s into a minute (and an hour)

    def __call__(self) -> float:  # a class attribute that is no function: called unbound, like time.time
        return self.now


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    pinned = Clock()
    monkeypatch.setattr(WindowCounter, "timer", pinned)
    return pinned


def _rates(settings: Settings, anon: str, user: str) -> None:
    settings.REST_FRAMEWORK = {
        **django_settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": anon, "user": user},
    }


def test_an_anonymous_client_is_throttled_with_retry_after(world: World, settings: Settings) -> None:
    _rates(settings, anon="3/minute", user="100/minute")
    anonymous = world.client("anonymous")
    statuses = [anonymous.get("/api/v1/challenges/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = anonymous.get("/api/v1/challenges/")
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) == 40  # the rest of the minute
    # Signed-in users have their own, separate allowance.
    assert world.client("participant_a").get("/api/v1/challenges/").status_code == 200


def test_each_user_is_throttled_separately_whatever_the_credential(world: World, settings: Settings) -> None:
    _rates(settings, anon="100/minute", user="2/minute")
    alice = world.client("participant_a")
    assert [alice.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 429]
    assert world.client("participant_b").get("/api/v1/me/").status_code == 200
    # A session of the same user shares the token's allowance.
    user = world.user("participant_a")
    session = world.client("anonymous")
    session.force_login(user)
    assert session.get("/api/v1/me/").status_code == 429


@pytest.mark.parametrize("rate", ["lots", "10/fortnight", "/hour"])
def test_a_bad_rate_in_the_environment_stops_the_settings_from_loading(rate: str) -> None:
    env = {**os.environ, "API_THROTTLE_USER": rate}
    result = subprocess.run(
        [sys.executable, "-c", "import dataperf_site.settings"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert f"API_THROTTLE_USER={rate!r} is not a rate" in result.stderr


def test_a_new_window_gives_the_client_its_allowance_again(world: World, settings: Settings, clock: Clock) -> None:
    _rates(settings, anon="2/minute", user="100/minute")
    anonymous = world.client("anonymous")
    assert [anonymous.get("/api/v1/challenges/").status_code for _ in range(3)] == [200, 200, 429]
    clock.now += 39
    assert anonymous.get("/api/v1/challenges/").status_code == 429  # still the same minute
    clock.now += 1
    assert [anonymous.get("/api/v1/challenges/").status_code for _ in range(3)] == [200, 200, 429]
