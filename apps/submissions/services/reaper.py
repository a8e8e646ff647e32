"""The periodic reaper: no submission stays running, queued or received forever."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.challenges.models import Task
from apps.submissions.models import Submission
from apps.submissions.services.dispatch import (
    enqueue_collective_rescore,
    enqueue_evaluation,
    enqueue_notification,
    enqueue_validation,
    enqueue_verification,
)

Status = Submission.Status


@dataclass(frozen=True)
class ReapReport:
    requeued: list[int]
    failed: list[int]
    resent: list[int]
    collective: list[int]


def submissions_reap(*, now: dt.datetime | None = None) -> ReapReport:
    """Requeue submissions whose worker lease expired (up to the retry budget, then fail them with a message),
    and re-send the messages of submissions waiting too long in `queued` or `received` (a lost message after a
    broker restart). Every re-send is harmless: claims are conditional."""
    now = now or timezone.now()
    requeued, failed = _reap_expired_leases(now)
    verify_requeued, verify_failed = _reap_verifications(now)
    return ReapReport(
        requeued=requeued + verify_requeued,
        failed=failed + verify_failed,
        resent=_resend_waiting(now),
        collective=_resend_collective(now),
    )


def _reap_verifications(now: dt.datetime) -> tuple[list[int], list[int]]:
    """`verifying` submissions whose sandbox worker died (lease expired) or whose message was lost (nobody
    claimed them for QUEUED_RESEND_SECONDS): send them again, or fail them once the retry budget is spent."""
    cutoff = now - dt.timedelta(seconds=settings.QUEUED_RESEND_SECONDS)
    stale = Q(lease_expires_at__lt=now) | Q(lease_owner="", queued_at__lt=cutoff)
    requeued: list[int] = []
    failed: list[int] = []
    with transaction.atomic():
        for submission in (
            Submission.objects.select_for_update(skip_locked=True)
            .filter(stale, status=Status.VERIFYING)
            .only("pk", "attempts", "lease_owner")
        ):
            if submission.lease_owner and submission.attempts >= settings.EVALUATION_MAX_ATTEMPTS:
                Submission.objects.filter(pk=submission.pk).update(
                    status=Status.FAILED,
                    finished_at=now,
                    lease_owner="",
                    lease_expires_at=None,
                    message=f"The verification was interrupted {submission.attempts} times (worker lost); giving up.",
                )
                enqueue_notification(submission.pk)
                failed.append(submission.pk)
                continue
            Submission.objects.filter(pk=submission.pk).update(
                lease_owner="", lease_expires_at=None, queued_at=now, progress_message="Waiting for a sandbox worker"
            )
            enqueue_verification(submission.pk)
            requeued.append(submission.pk)
    return requeued, failed


def _reap_expired_leases(now: dt.datetime) -> tuple[list[int], list[int]]:
    requeued: list[int] = []
    failed: list[int] = []
    with transaction.atomic():
        expired = (
            Submission.objects.select_for_update(skip_locked=True)
            .filter(status=Status.RUNNING, lease_expires_at__lt=now)
            .only("pk", "attempts")
        )
        for submission in expired:
            if submission.attempts >= settings.EVALUATION_MAX_ATTEMPTS:
                Submission.objects.filter(pk=submission.pk).update(
                    status=Status.FAILED,
                    finished_at=now,
                    lease_owner="",
                    lease_expires_at=None,
                    message=f"The evaluation was interrupted {submission.attempts} times (worker lost); giving up.",
                )
                enqueue_notification(submission.pk)
                failed.append(submission.pk)
            else:
                Submission.objects.filter(pk=submission.pk).update(
                    status=Status.QUEUED,
                    queued_at=now,
                    lease_owner="",
                    lease_expires_at=None,
                    progress_message="Requeued after the worker was lost",
                )
                enqueue_evaluation(submission.pk)
                requeued.append(submission.pk)
    return requeued, failed


def _resend_waiting(now: dt.datetime) -> list[int]:
    cutoff = now - dt.timedelta(seconds=settings.QUEUED_RESEND_SECONDS)
    resent: list[int] = []
    with transaction.atomic():
        for pk in Submission.objects.filter(status=Status.QUEUED, queued_at__lt=cutoff).values_list("pk", flat=True):
            Submission.objects.filter(pk=pk, status=Status.QUEUED).update(queued_at=now)
            enqueue_evaluation(pk)
            resent.append(pk)
        # A web process that died while validating leaves the row in `validating`: give it back to a worker.
        Submission.objects.filter(status=Status.VALIDATING, validation_started_at__lt=cutoff).update(
            status=Status.RECEIVED
        )
        waiting = Submission.objects.filter(status=Status.RECEIVED, created_at__lt=cutoff).filter(
            Q(last_sent_at__isnull=True) | Q(last_sent_at__lt=cutoff)
        )
        for pk in waiting.values_list("pk", flat=True):
            Submission.objects.filter(pk=pk, status=Status.RECEIVED).update(last_sent_at=now)
            enqueue_validation(pk)
            resent.append(pk)
    return resent


def _resend_collective(now: dt.datetime) -> list[int]:
    """Tasks whose collective rescore was asked for but never done (a lost message, a crashed job)."""
    cutoff = now - dt.timedelta(seconds=settings.QUEUED_RESEND_SECONDS)
    stale = Task.objects.filter(collective_requested__gt=F("collective_done")).filter(
        Q(collective_rescored_at__isnull=True) | Q(collective_rescored_at__lt=cutoff)
    )
    task_ids = list(stale.values_list("pk", flat=True))
    with transaction.atomic():
        for task_id in task_ids:
            enqueue_collective_rescore(task_id)
    return task_ids
