"""Real processes for the end-to-end tests (Celery workers and beat against the test database and broker), and
the browser tests' fixtures: the live server and a headless Chromium."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import current_app
from django.db import connection, connections
from playwright.sync_api import Browser, Page, expect, sync_playwright

from apps.challenges.models import Task
from scripts.processes import BIN, ROOT, WORKER_QUEUES, Child, celery_worker_argv
from tests.conftest import PASSWORD, put_task_data, required

CHROMIUM = Path("/usr/bin/chromium")


def test_database_url() -> str:
    """The URL of the database the tests run on (pytest-django's test database), for the worker processes."""
    params = connection.settings_dict
    if params["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{params['NAME']}"
    auth = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    return f"postgres://{auth}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{params['NAME']}"


class Process(Child):
    """A child process (scripts/processes.py's `Child`) on the test database, in its own process group, with its
    output in `<log_dir>/<name>.log`."""

    def __init__(self, name: str, argv: list[str], log_dir: Path) -> None:
        env = {**os.environ, "DATABASE_URL": test_database_url(), "PYTHONPATH": str(ROOT)}
        super().__init__(name, argv, env=env, log_dir=log_dir, stop_timeout=5)


def worker_argv(name: str, *, concurrency: int = 1) -> list[str]:
    """The command line of a test worker: every queue, as each worker the platform starts (`maintenance`, beat's
    reaper, included), a unique node name, no start-up chatter with the other workers."""
    node = f"{name}-{uuid.uuid4().hex[:6]}"
    return celery_worker_argv(
        node, queues=WORKER_QUEUES, concurrency=concurrency, extra=["--without-gossip", "--without-mingle"]
    )


def _purge_broker() -> None:
    """Drop messages left by an earlier run (their submissions no longer exist in this test database)."""
    current_app.control.purge()


@pytest.fixture
def start_worker(tmp_path: Path, transactional_db: None) -> Iterator[Callable[[], Process]]:
    """Start Celery workers (each a real process on the configured broker and the test database)."""
    _purge_broker()
    started: list[Process] = []

    def _start() -> Process:
        name = f"worker-{len(started)}"
        process = Process(name, worker_argv(name), tmp_path)
        started.append(process)
        process.wait_for_log("ready.")
        return process

    yield _start
    for process in started:
        process.stop()


@pytest.fixture
def beat(tmp_path: Path, transactional_db: None) -> Iterator[Process]:
    """Celery beat, running the lease reaper every REAPER_INTERVAL_SECONDS."""
    argv = [str(BIN / "celery"), "-A", "dataperf_site", "beat", "--schedule", str(tmp_path / "beat-schedule")]
    process = Process("beat", argv, tmp_path)
    yield process
    process.stop()


@pytest.fixture
def slow_task(speech_task: Task, speech_task_dir: Path) -> Task:
    """A second task on the same data, scored by the slowed-down plug-in evaluator."""
    task = Task.objects.create(
        challenge=speech_task.challenge,
        slug="slow-speech",
        title="Slow speech",
        evaluator_slug="slow-selection-speech",
        ml_task=Task.MLTask.KEYWORD_SPOTTING,
        config={"language": "en", "train_size": 25},
        quota_per_day=5,
    )
    put_task_data(task, speech_task_dir)
    return task


def wait_until(predicate: Callable[[], bool], *, timeout: float, what: str, logs: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{logs()[-4000:]}")


@pytest.fixture
def site(django_db_setup: None, live_server: Any) -> str:
    """The live server's URL. Requested after the test database exists, so that the (session-long) server
    stops before the database is dropped."""
    return str(live_server.url)


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    required("Chromium (`make browser`, needs root and apt-get)", None if CHROMIUM.exists() else f"no {CHROMIUM}")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
    ]
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        yield chromium
        chromium.close()
        # ORM calls made while Playwright runs get their own connection (asgiref's context-local storage
        # sees another context); close it, or the test database could not be dropped at the end.
        connections.close_all()


def log_in(page: Page, base: str, username: str, password: str = PASSWORD) -> None:
    """Log in through the site's log-in page, as a person does."""
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    expect(page.locator(".who")).to_have_text(username)
