"""Celery tasks owned by the submissions layer: validation and the reaper."""

from __future__ import annotations

from celery import shared_task

from apps.core.queues import REAP_TASK, VALIDATE_TASK
from apps.submissions.services.reaper import submissions_reap
from apps.submissions.services.validation import submission_validate


@shared_task(name=VALIDATE_TASK, acks_late=True, reject_on_worker_lost=True, soft_time_limit=600, time_limit=660)
def validate_submission(submission_id: int) -> str:
    return str(submission_validate(submission_id=submission_id).status)


@shared_task(name=REAP_TASK, ignore_result=True)
def reap_submissions() -> dict[str, list[int]]:
    report = submissions_reap()
    return {
        "requeued": report.requeued,
        "failed": report.failed,
        "resent": report.resent,
        "collective": report.collective,
    }
