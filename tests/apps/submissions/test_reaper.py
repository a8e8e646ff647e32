"""The reaper: no submission stays running, queued, received or validating forever."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone
from pytest_django.fixtures import DjangoCaptureOnCommitCallbacks

from apps.core.queues import EVALUATE_TASK, NOTIFY_TASK, VALIDATE_TASK
from apps.submissions.models import Submission
from apps.submissions.services.reaper import ReapReport, submissions_reap
from tests.apps.conftest import RecordingBroker

pytestmark = pytest.mark.django_db
Selections = dict[str, dict[str, Any]]
Status = Submission.Status


@pytest.fixture
def submission(submit: Callable[..., Submission], registered: User, speech_selections: Selections) -> Submission:
    return submit(registered, speech_selections["first-k"])


@pytest.fixture
def reap(django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks) -> Callable[..., ReapReport]:
    """Run the reaper and deliver the messages it queues on commit (to the recording broker)."""

    def _reap(**kwargs: Any) -> ReapReport:
        with django_capture_on_commit_callbacks(execute=True):
            return submissions_reap(**kwargs)

    return _reap


def _ago(seconds: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=seconds)


def _running(submission: Submission, *, lease_expires_at: dt.datetime, attempts: int = 1) -> None:
    Submission.objects.filter(pk=submission.pk).update(
        status=Status.RUNNING, lease_owner="dead-worker", lease_expires_at=lease_expires_at, attempts=attempts
    )


def test_it_requeues_a_running_submission_whose_lease_expired(
    submission: Submission, reap: Callable[..., ReapReport], broker: RecordingBroker
) -> None:
    _running(submission, lease_expires_at=_ago(1))

    report = reap()

    submission.refresh_from_db()
    assert report.requeued == [submission.pk]
    assert submission.status == Status.QUEUED
    assert (submission.lease_owner, submission.lease_expires_at) == ("", None)
    assert broker.ids(EVALUATE_TASK) == [submission.pk]


def test_it_fails_an_expired_submission_that_used_its_last_attempt(
    submission: Submission, reap: Callable[..., ReapReport], broker: RecordingBroker
) -> None:
    attempts = settings.EVALUATION_MAX_ATTEMPTS
    _running(submission, lease_expires_at=_ago(1), attempts=attempts)

    report = reap()

    submission.refresh_from_db()
    assert report.failed == [submission.pk]
    assert submission.status == Status.FAILED
    assert submission.message == f"The evaluation was interrupted {attempts} times (worker lost); giving up."
    assert submission.finished_at is not None
    assert [(message.name, message.submission_id) for message in broker.sent] == [(NOTIFY_TASK, submission.pk)]


def test_it_leaves_a_running_submission_with_a_live_lease_alone(
    submission: Submission, reap: Callable[..., ReapReport], broker: RecordingBroker
) -> None:
    deadline = timezone.now() + dt.timedelta(seconds=30)
    _running(submission, lease_expires_at=deadline)

    report = reap()

    submission.refresh_from_db()
    assert report == ReapReport(requeued=[], failed=[], resent=[], collective=[])
    assert (submission.status, submission.lease_owner, submission.lease_expires_at) == (
        Status.RUNNING,
        "dead-worker",
        deadline,
    )
    assert broker.sent == []


def test_it_resends_a_submission_queued_for_too_long(
    submission: Submission, reap: Callable[..., ReapReport], broker: RecordingBroker
) -> None:
    Submission.objects.filter(pk=submission.pk).update(queued_at=_ago(settings.QUEUED_RESEND_SECONDS + 1))

    report = reap()

    submission.refresh_from_db()
    assert report.resent == [submission.pk]
    assert submission.status == Status.QUEUED
    assert submission.queued_at is not None
    assert submission.queued_at > _ago(5)
    assert broker.ids(EVALUATE_TASK) == [submission.pk]


def test_it_resends_a_queued_submission_once_per_interval(
    submission: Submission, reap: Callable[..., ReapReport], broker: RecordingBroker
) -> None:
    Submission.objects.filter(pk=submission.pk).update(queued_at=_ago(settings.QUEUED_RESEND_SECONDS + 1))
    reap()

    second = reap(now=timezone.now() + dt.timedelta(seconds=settings.REAPER_INTERVAL_SECONDS))

    assert second.resent == []
    assert broker.ids(EVALUATE_TASK) == [submission.pk]


def test_it_does_not_resend_a_submission_queued_recently(
    submission: Submission, reap: Callable[..., ReapReport], broker: RecordingBroker
) -> None:
    Submission.objects.filter(pk=submission.pk).update(queued_at=_ago(settings.QUEUED_RESEND_SECONDS - 5))

    report = reap()

    assert report.resent == []
    assert broker.sent == []


def test_it_returns_a_stuck_validating_submission_to_received_and_resends_its_validation(
    submission: Submission, reap: Callable[..., ReapReport], broker: RecordingBroker
) -> None:
    stuck_since = _ago(settings.QUEUED_RESEND_SECONDS + 1)
    Submission.objects.filter(pk=submission.pk).update(
        status=Status.VALIDATING, queued_at=None, created_at=stuck_since, validation_started_at=stuck_since
    )

    report = reap()

    submission.refresh_from_db()
    assert submission.status == Status.RECEIVED
    assert report.resent == [submission.pk]
    assert broker.ids(VALIDATE_TASK) == [submission.pk]


def test_it_leaves_alone_a_submission_whose_validation_started_recently_after_a_long_wait(
    submission: Submission, reap: Callable[..., ReapReport], broker: RecordingBroker
) -> None:
    Submission.objects.filter(pk=submission.pk).update(
        status=Status.VALIDATING, created_at=_ago(settings.QUEUED_RESEND_SECONDS * 10), validation_started_at=_ago(1)
    )

    report = reap()

    submission.refresh_from_db()
    assert submission.status == Status.VALIDATING
    assert report.resent == []


def test_it_does_not_resend_a_waiting_received_submission_on_every_run(
    submission: Submission, reap: Callable[..., ReapReport], broker: RecordingBroker
) -> None:
    # A queued one is throttled by moving `queued_at`; a received one must be throttled the same way, or a
    # backlog in the validate queue gets one duplicate message per reaper run (every few seconds).
    Submission.objects.filter(pk=submission.pk).update(
        status=Status.RECEIVED, queued_at=None, created_at=_ago(settings.QUEUED_RESEND_SECONDS + 1)
    )
    reap()

    second = reap(now=timezone.now() + dt.timedelta(seconds=settings.REAPER_INTERVAL_SECONDS))

    assert second.resent == []
    assert broker.ids(VALIDATE_TASK) == [submission.pk]
