"""Fixtures of the reliability tests: real Celery workers and beat with short leases, teams with distinct
selections, and the checks every run ends with (scored exactly once, boards equal to the ones from scratch).

The workers and beat are the end-to-end tests' `Process` (tests/e2e/conftest.py); what differs is their
environment (`pipeline_env`): leases of seconds, a reaper every second, a retry budget no test exhausts.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import current_app
from django.contrib.auth.models import User

from apps.challenges.models import Challenge, Task
from apps.challenges.services import participation_register
from apps.divisions.models import Division
from apps.leaderboards.models import LeaderboardEntry
from apps.leaderboards.selectors import leaderboard_view, leaderboard_view_from_scratch
from apps.submissions.models import Evaluation, Score, Submission
from evaluators.selection_speech.synthetic import baseline_submissions
from scripts.processes import BIN
from tests.conftest import make_user, required
from tests.e2e.conftest import Process, worker_argv

LEASE_SECONDS = 3
REAPER_SECONDS = 1
RESEND_SECONDS = 6
MAX_ATTEMPTS = 1000
"""So high that no run exhausts it: a submission that ends `failed` is then a bug, not bad luck."""

Status = Submission.Status
WAITING = (Status.RECEIVED, Status.VALIDATING, Status.QUEUED, Status.RUNNING)


@pytest.fixture
def redis_broker(postgres_only: None) -> str:
    url = os.environ.get("CELERY_BROKER_URL", "")
    required(
        "a Redis broker", None if url.startswith("redis://") else f"CELERY_BROKER_URL is {url or 'the file system'}"
    )
    return url


@pytest.fixture
def pipeline_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment the worker and beat processes inherit: a short lease, a fast reaper, a huge budget."""
    env = {
        "EVALUATION_LEASE_SECONDS": str(LEASE_SECONDS),
        "REAPER_INTERVAL_SECONDS": str(REAPER_SECONDS),
        "QUEUED_RESEND_SECONDS": str(RESEND_SECONDS),
        "EVALUATION_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


class Pipeline:
    """Workers (every queue, one pool process each unless told) and beat, started on demand, all stopped
    at the end. Every process inherits the environment as it is when it starts."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.processes: list[Process] = []
        self.workers: list[Process] = []

    def start_worker(self, *, wait: bool = True, concurrency: int = 1) -> Process:
        name = f"worker-{len(self.workers)}"
        process = Process(name, worker_argv(name, concurrency=concurrency), self.log_dir)
        self.processes.append(process)
        self.workers.append(process)
        if wait:
            process.wait_for_log("ready.")
        return process

    def start_workers(self, count: int, *, concurrency: int = 1) -> list[Process]:
        """Start `count` workers at once and wait until each is ready: their start-ups (seconds each) overlap."""
        started = [self.start_worker(wait=False, concurrency=concurrency) for _ in range(count)]
        for process in started:
            process.wait_for_log("ready.")
        return started

    def start_beat(self) -> Process:
        schedule = self.log_dir / f"beat-schedule-{len(self.processes)}"
        process = Process(
            "beat", [str(BIN / "celery"), "-A", "dataperf_site", "beat", "--schedule", str(schedule)], self.log_dir
        )
        self.processes.append(process)
        return process

    def alive_workers(self) -> list[Process]:
        return [worker for worker in self.workers if worker.popen.poll() is None]

    def logs(self) -> str:
        return "\n".join(f"--- {process.name}\n{process.log()[-3000:]}" for process in self.processes)

    def stop(self) -> None:
        for process in self.processes:
            process.stop()


@pytest.fixture
def pipeline(pipeline_env: dict[str, str], tmp_path: Path, transactional_db: None) -> Iterator[Pipeline]:
    running = Pipeline(tmp_path)
    yield running
    running.stop()


def purge_broker() -> None:
    """Drop messages an earlier run left on the test broker (their submissions do not exist here)."""
    current_app.control.purge()


@pytest.fixture
def open_task(speech_task: Task) -> Task:
    """The speech task without quotas: every team submits as often as the test needs."""
    Task.objects.filter(pk=speech_task.pk).update(quota_per_day=None, quota_total=None, quota_concurrent=None)
    speech_task.refresh_from_db()
    return speech_task


@pytest.fixture
def teams(challenge: Challenge) -> list[User]:
    """Eight registered participants, each a team of one."""
    users = [make_user(f"team{index}") for index in range(8)]
    for user in users:
        participation_register(challenge=challenge, user=user, accept_rules=True)
    return users


@pytest.fixture(scope="session")
def distinct_selections(speech_task_dir: Path) -> list[dict[str, Any]]:
    """Forty valid selections with (mostly) different scores: random balanced draws of forty seeds."""
    return [baseline_submissions(speech_task_dir, seed=seed)["random-balanced"] for seed in range(40)]


SubmitMany = Callable[[int], list[Submission]]


@pytest.fixture
def submit_many(
    submit: Callable[..., Submission], open_task: Task, teams: list[User], distinct_selections: list[dict[str, Any]]
) -> SubmitMany:
    """Submit `count` selections round-robin over the teams (validated at once, queued for the workers, which
    may be running already)."""

    def _submit(count: int) -> list[Submission]:
        made = [
            submit(teams[index % len(teams)], distinct_selections[index % len(distinct_selections)])
            for index in range(count)
        ]
        # Validated and queued; the workers (already running) may have claimed, even scored, the first ones.
        assert {submission.status for submission in made} <= {Status.QUEUED, Status.RUNNING, Status.SCORED}
        return made

    return _submit


def settled(submissions: list[Submission]) -> bool:
    """True once no submission waits or runs any more."""
    return not Submission.objects.filter(pk__in=[s.pk for s in submissions], status__in=WAITING).exists()


def assert_scored_exactly_once(submissions: list[Submission], task: Task, division: Division) -> None:
    """Every submission scored, by exactly one evaluation with the same number of scores as the others; one
    board row per team; the materialised board equal to the one computed from the scores."""
    ids = [submission.pk for submission in submissions]
    statuses = dict(Submission.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert {pk: status for pk, status in statuses.items() if status != Status.SCORED} == {}
    evaluations = Evaluation.objects.filter(submission_id__in=ids)
    per_submission = dict.fromkeys(ids, 0)
    for submission_id in evaluations.values_list("submission_id", flat=True):
        per_submission[submission_id] += 1
    assert set(per_submission.values()) == {1}, per_submission
    score_counts = {Score.objects.filter(evaluation=evaluation).count() for evaluation in evaluations}
    assert len(score_counts) == 1 and score_counts.pop() > 0
    current = dict(Submission.objects.filter(pk__in=ids).values_list("pk", "current_evaluation__submission_id"))
    assert current == {pk: pk for pk in ids}
    entries = LeaderboardEntry.objects.filter(leaderboard__task=task, leaderboard__division=division)
    teams = list(entries.values_list("team_id", flat=True))
    assert len(teams) == len(set(teams)) == len({s.team_id for s in submissions})
    served = json.loads(json.dumps(dataclasses.asdict(leaderboard_view(task=task, division=division))["rows"]))
    scratch = dataclasses.asdict(leaderboard_view_from_scratch(task=task, division=division))["rows"]
    assert served == json.loads(json.dumps(scratch))
