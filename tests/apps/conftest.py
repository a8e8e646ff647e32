"""Helpers of the Django-side unit tests: a recording broker, scored-submission factories, small uploads.

The shared fixtures (users, the challenge, the speech task, `submit`) live in tests/conftest.py.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.utils import timezone

from apps.accounts.models import Team
from apps.accounts.services import team_ensure_personal
from apps.challenges.models import Task
from apps.divisions.models import Division
from apps.submissions.models import Evaluation, Score, Submission
from apps.submissions.services import dispatch
from apps.submissions.services.leases import LeaseKeeper
from evaluators.selection_speech.scoring import SEEDS, seed_metric
from evaluators.taskdir import clear_task_cache

PRIMARY = "macro_f1"
SEED_METRICS = [seed_metric(seed) for seed in SEEDS]


@dataclass(frozen=True)
class SentTask:
    """One message the platform handed to the broker."""

    name: str
    queue: str
    submission_id: int
    countdown: float


class RecordingBroker:
    """Stands in for `dispatch._send`, the outbound boundary to Celery's broker; thread-safe."""

    def __init__(self) -> None:
        self.sent: list[SentTask] = []
        self._lock = threading.Lock()

    def send(self, task_name: str, queue: str, submission_id: int, countdown: float) -> None:
        with self._lock:
            self.sent.append(SentTask(task_name, queue, submission_id, countdown))

    def ids(self, task_name: str) -> list[int]:
        return [message.submission_id for message in self.sent if message.name == task_name]


@pytest.fixture(autouse=True)
def broker(monkeypatch: pytest.MonkeyPatch) -> RecordingBroker:
    """No test here talks to a real broker; what would have been sent is recorded instead."""
    recording = RecordingBroker()
    monkeypatch.setattr(dispatch, "_send", recording.send)
    return recording


@pytest.fixture(autouse=True)
def _quiet_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lease heartbeat writes from its own thread and connection. Inside a test transaction that thread
    waits on the row lock the test holds (a real worker commits its claim first), so `LeaseKeeper.__exit__`
    would sit out its 10 s join. A tick longer than any test keeps the thread idle until it is told to stop."""
    monkeypatch.setattr(LeaseKeeper, "TICK", 3600.0)


@pytest.fixture(autouse=True)
def _fresh_task_cache() -> Iterator[None]:
    """Primary keys repeat across rolled-back tests on SQLite, and the loaded-task cache is keyed by them."""
    clear_task_cache()
    yield
    clear_task_cache()


def private_files() -> set[Path]:
    """Every stored artifact and code archive (MEDIA_ROOT/private), to compare before and after an action."""
    root = Path(settings.MEDIA_ROOT) / "private"
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def upload(content: bytes | str, name: str = "selection.json") -> ContentFile[bytes]:
    return ContentFile(content.encode() if isinstance(content, str) else content, name=name)


def set_created_at(submission: Submission, moment: dt.datetime) -> None:
    """Move a submission in time (`created_at` is set on insert only)."""
    Submission.objects.filter(pk=submission.pk).update(created_at=moment)


def make_scored_submission(
    *,
    task: Task,
    division: Division,
    user: User,
    primary: float,
    created_at: dt.datetime | None = None,
    team: Team | None = None,
    baseline: bool = False,
    status: str = Submission.Status.SCORED,
    metric: str = PRIMARY,
) -> Submission:
    """A factory for a submission with a recorded evaluation (primary plus one seed metric), without running
    the evaluator: what the leaderboard and admin tests need, in milliseconds."""
    submission = Submission.objects.create(
        task=task,
        team=team or team_ensure_personal(user=user),
        division=division,
        submitted_by=user,
        artifact="submissions/factory/selection.json",
        artifact_name="selection.json",
        artifact_size=2,
        artifact_sha256="0" * 64,
        status=status,
        is_baseline=baseline,
        progress=1.0,
    )
    evaluation = Evaluation.objects.create(
        submission=submission,
        evaluator_slug=task.evaluator_slug,
        evaluator_version="1.0.0",
        data_version=task.data_version,
        primary_metric=metric,
    )
    Score.objects.bulk_create(
        [
            Score(evaluation=evaluation, metric=metric, value=primary),
            Score(evaluation=evaluation, metric=SEED_METRICS[0], value=primary),
        ]
    )
    Submission.objects.filter(pk=submission.pk).update(
        current_evaluation=evaluation, created_at=created_at or timezone.now()
    )
    submission.refresh_from_db()
    return submission


def team_of(user: User) -> Team:
    return team_ensure_personal(user=user)
