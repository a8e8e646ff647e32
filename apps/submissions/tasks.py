"""Celery tasks owned by the submissions layer: validation, the reaper and e-mail notifications."""

from __future__ import annotations

from celery import shared_task

from apps.core.queues import NOTIFY_TASK, REAP_TASK, VALIDATE_TASK
from apps.submissions.notifications import submission_notify
from apps.submissions.services.reaper import submissions_reap
from apps.submissions.services.validation import submission_validate


@shared_task(name=VALIDATE_TASK, acks_late=True, reject_on_worker_lost=True, soft_time_limit=600, time_limit=660)
def validate_submission(submission_id: int) -> str:
    return str(submission_validate(submission_id=submission_id).status)


# Bounded like every task: a run cut short loses nothing (each of its passes is one transaction over rows it
# locks with skip_locked, rolled back if cut), and the next run, one interval later, does the pass again.
@shared_task(name=REAP_TASK, ignore_result=True, soft_time_limit=120, time_limit=150)
def reap_submissions() -> dict[str, list[int]]:
    report = submissions_reap()
    return {
        "requeued": report.requeued,
        "failed": report.failed,
        "resent": report.resent,
        "collective": report.collective,
    }


# Acknowledged on receipt (not late): a redelivered message would e-mail everyone a second time, and a lost
# e-mail costs less (the submission page shows the outcome). SMTP time-outs are bounded by EMAIL_TIMEOUT.
@shared_task(name=NOTIFY_TASK, acks_late=False, ignore_result=True, soft_time_limit=120, time_limit=150)
def notify_submission(submission_id: int) -> int:
    return submission_notify(submission_id=submission_id)
