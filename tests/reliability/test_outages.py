"""Outages of the services the pipeline stands on, in the middle of a run: every submission still ends scored,
exactly once, and none is left waiting or running.

- The broker: a private redis-server (no persistence) that the workers, beat and this process use is killed
  and started again on the same port while submissions are being evaluated, and once more after a
  submission was made while it was down. Every message it held is lost; the reaper re-sends what waits.
- The database: every PostgreSQL connection of the run but the test's own is terminated
  (`pg_terminate_backend`) three times while submissions are being evaluated; and, in this process, the
  connection of an evaluation is terminated while its evaluator runs: the result is still recorded.

PostgreSQL only (skipped with the reason elsewhere; under CI=true a failure instead).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
import redis
from celery import Celery
from django.db import connection

from apps.challenges.models import Task
from apps.divisions.models import Division
from apps.jobs.pipeline import evaluate_and_rank
from apps.submissions.models import Submission
from apps.submissions.services import dispatch
from apps.submissions.services.leases import Outcome
from evaluators import EvaluationResult, get_evaluator
from scripts.processes import free_port
from tests.conftest import required
from tests.e2e.conftest import wait_until
from tests.reliability.conftest import (
    Pipeline,
    SubmitMany,
    assert_scored_exactly_once,
    purge_broker,
    settled,
)

pytestmark = [pytest.mark.usefixtures("postgres_only")]

Status = Submission.Status
SUBMISSIONS = 12


class RedisServer:
    """A redis-server of this test alone, on its own port, keeping nothing on disk: killing it loses every
    message, as a crash of a broker without persistence does."""

    def __init__(self, binary: str, port: int, folder: Path) -> None:
        self.binary, self.port, self.folder = binary, port, folder
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] = (folder / "redis.log").open("ab")

    def start(self) -> None:
        argv = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.folder),
        ]
        self.process = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        wait_until(lambda: self._answers(client), timeout=20, what="redis-server to answer")

    def _answers(self, client: redis.Redis) -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def close(self) -> None:
        self.kill()
        self._log.close()


@pytest.fixture
def private_broker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pipeline_env: dict[str, str]
) -> Iterator[RedisServer]:
    """A private redis-server, the broker of the processes started afterwards and of this test's messages."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    required("redis-server", None if Path(binary).exists() else f"{binary} does not exist")
    server = RedisServer(binary, free_port(), tmp_path)
    server.start()
    monkeypatch.setenv("CELERY_BROKER_URL", server.url)
    # This process sends through its own Celery app (`dispatch._send`): point that one at the server too.
    app = Celery("dataperf_site", set_as_current=False)  # the project's app stays the current one
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(broker_url=server.url)
    monkeypatch.setattr(dispatch, "current_app", app)
    yield server
    server.close()


def _scored(submissions: list[Submission]) -> int:
    return Submission.objects.filter(pk__in=[s.pk for s in submissions], status=Status.SCORED).count()


def _evaluating(submissions: list[Submission]) -> bool:
    """Some are scored, and another one is being evaluated right now."""
    ids = [submission.pk for submission in submissions]
    running = Submission.objects.filter(pk__in=ids, status=Status.RUNNING, progress__gt=0).exists()
    return running and _scored(submissions) >= 1


@pytest.mark.e2e
def test_a_broker_restart_mid_run_loses_no_submission(
    private_broker: RedisServer,
    pipeline: Pipeline,
    submit_many: SubmitMany,
    open_task: Task,
    open_division: Division,
) -> None:
    pipeline.start_beat()
    pipeline.start_workers(2)
    submissions = submit_many(SUBMISSIONS)
    wait_until(lambda: _evaluating(submissions), timeout=90, what="evaluations under way", logs=pipeline.logs)

    private_broker.kill()  # the queued messages and the ones being worked on are gone
    time.sleep(2)
    late = submit_many(1)  # made while the broker is down: its message cannot even be sent
    private_broker.start()
    before = _scored(submissions)
    wait_until(
        lambda: _scored(submissions) >= before + 2, timeout=90, what="scores after the restart", logs=pipeline.logs
    )
    private_broker.kill()
    private_broker.start()

    everything = submissions + late
    wait_until(lambda: settled(everything), timeout=150, what="every score", logs=pipeline.logs)
    assert_scored_exactly_once(everything, open_task, open_division)


def _terminate_other_connections() -> int:
    """Terminate every connection to the test database but this one (the workers' and beat's); how many."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()) AS terminated"
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


@pytest.mark.e2e
def test_dropped_database_connections_mid_run_lose_no_submission(
    pipeline: Pipeline, submit_many: SubmitMany, open_task: Task, open_division: Division
) -> None:
    purge_broker()
    pipeline.start_beat()
    pipeline.start_workers(2)
    submissions = submit_many(SUBMISSIONS)
    terminated: list[int] = []
    for _ in range(3):
        wait_until(
            lambda: _evaluating(submissions) or settled(submissions), timeout=90, what="evaluations", logs=pipeline.logs
        )
        terminated.append(_terminate_other_connections())
        time.sleep(1.5)

    wait_until(lambda: settled(submissions), timeout=150, what="every score", logs=pipeline.logs)
    print(f"\nconnections terminated: {terminated}")
    assert terminated[0] >= 1, "a worker held a connection when they were cut"
    assert_scored_exactly_once(submissions, open_task, open_division)


def test_a_connection_dropped_while_the_evaluator_runs_costs_a_reconnection_not_the_evaluation(
    submit_many: SubmitMany, open_task: Task, open_division: Division, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection an evaluation claimed its submission with sits idle while the evaluator runs (minutes or
    hours in production): a database restart, a failover or an idle timeout may close it meanwhile. The
    result must still be recorded, on this attempt, instead of the task crashing and the evaluation being
    run again (and, past the retry budget, failed)."""
    monkeypatch.setattr(dispatch, "_send", lambda *args: None)
    (submission,) = submit_many(1)
    evaluator = get_evaluator(open_task.evaluator_slug)
    evaluate = evaluator.evaluate
    terminated: list[bool] = []

    def evaluate_after_an_outage(*args: Any, **kwargs: Any) -> EvaluationResult:
        with connection.cursor() as cursor:  # the evaluating thread's connection
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone() or (0,)
        terminated.append(_terminate_from_another_connection(pid))
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(evaluator, "evaluate", evaluate_after_an_outage)

    assert evaluate_and_rank(submission_id=submission.pk) == Outcome.SCORED

    assert terminated == [True]
    submission.refresh_from_db()
    assert (submission.status, submission.attempts) == (Status.SCORED, 1)
    assert_scored_exactly_once([submission], open_task, open_division)


def _terminate_from_another_connection(pid: int) -> bool:
    outcome: list[bool] = []

    def terminate() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
                row = cursor.fetchone()
            outcome.append(bool(row and row[0]))
        finally:
            connection.close()

    thread = threading.Thread(target=terminate)
    thread.start()
    thread.join(timeout=30)
    return outcome == [True]
