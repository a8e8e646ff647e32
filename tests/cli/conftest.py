"""The CLI against a live test server (pytest-django's `live_server`) and, where a submission is scored, a
real Celery worker (tests/e2e/conftest.py's `start_worker`). The CLI runs as the installed `dataperf`
command, in a subprocess with its own config directory."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache

from apps.accounts.services import api_token_create
from evaluators.taskdir import clear_task_cache
from tests.e2e.conftest import start_worker  # noqa: F401 - a fixture, shared with the end-to-end tests

DATAPERF = Path(sys.executable).parent / "dataperf"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@dataclass(frozen=True)
class Cli:
    """Runs `dataperf` with a private HOME and XDG_CONFIG_HOME (and no DATAPERF_* from the caller)."""

    home: Path
    url: str

    @property
    def config_dir(self) -> Path:
        return self.home / "config" / "dataperf"

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key not in {"DATAPERF_URL", "DATAPERF_TOKEN"}}
        env |= {"HOME": str(self.home), "XDG_CONFIG_HOME": str(self.home / "config")}
        return env | (extra or {})

    def __call__(self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Result:
        assert DATAPERF.exists(), f"{DATAPERF} is missing: run `make setup` (it installs the console script)"
        done = subprocess.run(
            [str(DATAPERF), *args],
            cwd=cwd or self.home,
            env=self.env(env),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture(autouse=True)
def _fresh_state() -> Iterator[None]:
    """The live server runs in this process: its throttle counters and loaded-task cache (keyed by primary
    keys, which repeat across flushed tests) must not leak from one test into the next."""
    cache.clear()
    clear_task_cache()
    yield
    cache.clear()
    clear_task_cache()


@pytest.fixture
def site(django_db_setup: None, live_server: Any) -> str:
    """The live server's URL. Requested after the test database exists, so that the (session-long) server
    stops before the database is dropped."""
    return str(live_server.url)


@pytest.fixture
def cli(site: str, tmp_path: Path) -> Cli:
    home = tmp_path / "home"
    home.mkdir()
    return Cli(home=home, url=site)


@pytest.fixture
def token_of() -> Callable[[User], str]:
    def _token(user: User) -> str:
        return api_token_create(user=user, name="cli tests")[1]

    return _token
