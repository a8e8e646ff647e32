"""The leased attempt (`LeasedAttempt`), the one state machine of evaluations and verifications: claim once,
record only under the lease, give crashed work back to be retried, fail it once the attempts are spent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone
from pytest_django.fixtures import DjangoCaptureOnCommitCallbacks

from apps.challenges.models import Task
from apps.core.queues import EVALUATE_TASK, NOTIFY_TASK, VERIFY_TASK
from apps.divisions.models import Division
from apps.submissions.models import Submission
from apps.submissions.services.evaluation import EVALUATION
from apps.submissions.services.leases import LeasedAttempt, LeasedJob, Outcome
from apps.submissions.services.verification import VERIFICATION
from tests.apps.conftest import RecordingBroker, make_scored_submission

pytestmark = pytest.mark.django_db
Status = Submission.Status
Selections = dict[str, dict[str, Any]]
JOBS = {"evaluation": EVALUATION, "verification": VERIFICATION}


@pytest.fixture(params=JOBS.keys())
def job(request: pytest.FixtureRequest) -> LeasedJob:
    return JOBS[request.param]


@pytest.fixture
def waiting(job: LeasedJob, submit: Callable[..., Submission], registered: User, speech_selections: Selections) -> int:
    """A submission waiting for a worker of `job`; its id."""
    submission = submit(registered, speech_selections["first-k"])
    Submission.objects.filter(pk=submission.pk).update(status=job.waiting)
    return submission.pk


def _claimed(job: LeasedJob, submission_id: int, worker: str) -> LeasedAttempt:
    attempt = job.attempt(submission_id=submission_id, worker=worker)
    assert attempt.claim() is not None
    return attempt


def _expire(submission_id: int) -> None:
    Submission.objects.filter(pk=submission_id).update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))


def test_a_second_claim_of_the_same_work_is_skipped(job: LeasedJob, waiting: int) -> None:
    first = job.attempt(submission_id=waiting, worker="worker-a").begin()
    second = job.attempt(submission_id=waiting, worker="worker-b").begin()

    assert isinstance(first, Submission)
    assert (first.status, first.lease_owner, first.attempts) == (job.held, "worker-a", 1)
    assert second == Outcome.SKIPPED
    assert Submission.objects.get(pk=waiting).lease_owner == "worker-a"


def test_work_held_under_an_expired_lease_is_claimed_by_the_next_worker(job: LeasedJob, waiting: int) -> None:
    _claimed(job, waiting, "worker-a")
    _expire(waiting)

    second = job.attempt(submission_id=waiting, worker="worker-b").claim()

    assert second is not None
    assert (second.lease_owner, second.attempts) == ("worker-b", 2)


def test_a_worker_that_lost_its_lease_records_and_ends_nothing(
    job: LeasedJob,
    waiting: int,
    broker: RecordingBroker,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    lost = _claimed(job, waiting, "worker-a")
    _expire(waiting)
    _claimed(job, waiting, "worker-b")
    written: list[Submission] = []

    with django_capture_on_commit_callbacks(execute=True):
        outcomes = [
            lost.record(written.append),
            lost.renew((0.5, "halfway")),
            lost.end(status=Status.REJECTED, message="too late"),
            lost.retry(message="too late"),
        ]

    assert outcomes == [False, False, Outcome.LOST_LEASE, Outcome.LOST_LEASE]
    assert written == []
    assert broker.sent == []
    held = Submission.objects.get(pk=waiting)
    assert (held.status, held.lease_owner, held.message, held.progress_message) == (
        job.held,
        "worker-b",
        "",
        job.first_step,
    )


def test_the_holder_records_under_the_lock_and_releases_the_lease(job: LeasedJob, waiting: int) -> None:
    attempt = _claimed(job, waiting, "worker-a")
    written: list[int] = []

    def write(locked: Submission) -> None:
        written.append(locked.pk)
        attempt.release(status=Status.SCORED, progress_message="Recorded")

    assert attempt.record(write) is True

    recorded = Submission.objects.get(pk=waiting)
    assert written == [waiting]
    assert (recorded.status, recorded.progress_message) == (Status.SCORED, "Recorded")
    assert (recorded.lease_owner, recorded.lease_expires_at) == ("", None)
    assert attempt.record(write) is False  # the lease is released: a repeat writes nothing


def test_a_heartbeat_extends_the_lease_and_writes_storable_progress(job: LeasedJob, waiting: int) -> None:
    attempt = _claimed(job, waiting, "worker-a")
    Submission.objects.filter(pk=waiting).update(lease_expires_at=timezone.now())

    assert attempt.renew((1.5, "step\x00two" + "x" * 300)) is True

    renewed = Submission.objects.get(pk=waiting)
    assert renewed.lease_expires_at is not None and renewed.lease_expires_at > timezone.now()
    assert renewed.progress == 1.0
    assert renewed.progress_message.startswith("step\\x00two") and "\x00" not in renewed.progress_message
    assert len(renewed.progress_message) == 200  # the column's length, escapes included


def test_a_crashed_evaluation_is_queued_again_after_a_back_off_showing_why(
    submit: Callable[..., Submission],
    registered: User,
    speech_selections: Selections,
    broker: RecordingBroker,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    submission_id = submit(registered, speech_selections["first-k"]).pk
    attempt = _claimed(EVALUATION, submission_id, "worker-a")

    with django_capture_on_commit_callbacks(execute=True):
        outcome = attempt.retry(message="The evaluator failed unexpectedly (ValueError).")

    retried = Submission.objects.get(pk=submission_id)
    assert outcome == Outcome.FAILED
    assert (retried.status, retried.progress_message) == (Status.QUEUED, "Waiting to retry")
    assert retried.message == "The evaluator failed unexpectedly (ValueError)."
    assert (retried.lease_owner, retried.lease_expires_at, retried.finished_at) == ("", None, None)
    assert [(sent.name, sent.countdown) for sent in broker.sent] == [(EVALUATE_TASK, 10)]


def test_a_crashed_verification_waits_in_verifying_for_its_retry_without_a_message(
    submit: Callable[..., Submission],
    registered: User,
    speech_selections: Selections,
    broker: RecordingBroker,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    submission_id = submit(registered, speech_selections["first-k"]).pk
    Submission.objects.filter(pk=submission_id).update(status=Status.VERIFYING)
    attempt = _claimed(VERIFICATION, submission_id, "worker-a")

    with django_capture_on_commit_callbacks(execute=True):
        outcome = attempt.retry(message="The sandbox could not run on this worker; it will be retried.")

    retried = Submission.objects.get(pk=submission_id)
    assert outcome == Outcome.FAILED
    assert (retried.status, retried.progress_message, retried.message) == (Status.VERIFYING, "Waiting to retry", "")
    assert (retried.lease_owner, retried.lease_expires_at) == ("", None)
    assert [(sent.name, sent.countdown) for sent in broker.sent] == [(VERIFY_TASK, 10)]
    assert VERIFICATION.attempt(submission_id=submission_id, worker="worker-b").claim() is not None


def test_a_crash_on_the_last_attempt_fails_the_work_for_good_and_notifies(
    job: LeasedJob,
    waiting: int,
    broker: RecordingBroker,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    Submission.objects.filter(pk=waiting).update(attempts=settings.EVALUATION_MAX_ATTEMPTS - 1)
    attempt = _claimed(job, waiting, "worker-a")

    with django_capture_on_commit_callbacks(execute=True):
        outcome = attempt.retry(message="It crashed.")

    failed = Submission.objects.get(pk=waiting)
    assert outcome == Outcome.FAILED
    assert (failed.status, failed.message, failed.lease_owner) == (Status.FAILED, "It crashed.", "")
    assert failed.finished_at is not None
    assert [(sent.name, sent.submission_id) for sent in broker.sent] == [(NOTIFY_TASK, waiting)]


def test_work_whose_earlier_attempts_were_all_interrupted_is_failed_at_its_next_claim(
    job: LeasedJob, waiting: int
) -> None:
    attempts = settings.EVALUATION_MAX_ATTEMPTS
    Submission.objects.filter(pk=waiting).update(attempts=attempts)

    outcome = job.attempt(submission_id=waiting, worker="worker-a").begin()

    failed = Submission.objects.get(pk=waiting)
    assert outcome == Outcome.FAILED
    assert (failed.status, failed.message) == (Status.FAILED, job.interrupted.format(times=attempts))
    assert (failed.lease_owner, failed.lease_expires_at) == ("", None)


def test_rejecting_a_ranked_submission_calls_on_finished_in_the_same_transaction(
    job: LeasedJob, waiting: int, speech_task: Task, open_division: Division, registered: User
) -> None:
    ranked = make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.5)
    Submission.objects.filter(pk=ranked.pk).update(status=job.waiting)
    finished: list[int] = []

    rejected = _claimed(job, ranked.pk, "worker-a").end(
        status=Status.REJECTED, message="Not reproduced.", on_finished=lambda row: finished.append(row.pk)
    )
    never_ranked = _claimed(job, waiting, "worker-a").end(
        status=Status.REJECTED, message="Not reproduced.", on_finished=lambda row: finished.append(row.pk)
    )

    assert (rejected, never_ranked) == (Outcome.REJECTED, Outcome.REJECTED)
    assert finished == [ranked.pk]
    assert Submission.objects.get(pk=ranked.pk).status == Status.REJECTED
