"""Real processes for the end-to-end tests: Celery workers and beat against the test database and broker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest
from celery import current_app
from django.db import connection

from apps.challenges.models import Task
from tests.conftest import put_task_data

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_database_url() -> str:
    """The URL of the database the tests run on (pytest-django's test database), for the worker processes."""
    params = connection.settings_dict
    if params["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{params['NAME']}"
    auth = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    return f"postgres://{auth}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{params['NAME']}"


class Process:
    """A child process in its own process group, with its output in a log file."""

    def __init__(self, name: str, argv: list[str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        env = {**os.environ, "DATABASE_URL": test_database_url(), "PYTHONPATH": str(ROOT)}
        self.popen = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return
            if self.popen.poll() is not None:
                raise AssertionError(f"{self.name} exited early:\n{self.log()[-3000:]}")
            time.sleep(0.2)
        raise AssertionError(f"{self.name} did not log {text!r} within {timeout} s:\n{self.log()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole group: the worker's parent and the pool child evaluating, without warning."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


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
        argv = [
            str(BIN / "celery"), "-A", "dataperf_site", "worker", "-Q", "validate,evaluate,sandbox",
            "--concurrency", "1",
            "--loglevel", "INFO", "-n", f"{name}-{uuid.uuid4().hex[:6]}@%h", "--without-gossip", "--without-mingle",
        ]  # fmt: skip
        process = Process(name, argv, tmp_path)
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
