"""Every Celery task of the platform. Each is a thin adapter: it takes an id, calls one service, and is safe to
run twice. Other layers send them by name (`apps.core.queues`), so no lower app imports this one."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from apps.core.queues import (
    EVALUATE_TASK,
    EXPORT_SUBMISSIONS_TASK,
    NOTIFY_TASK,
    RATCHET_ITEMS_TASK,
    RATCHET_LABELS_TASK,
    REAP_TASK,
    RESCORE_COLLECTIVE_TASK,
    ROUND_DATA_TASK,
    VALIDATE_TASK,
    VERIFY_TASK,
)
from apps.jobs.collective import task_rescore_collective
from apps.jobs.pipeline import evaluate_and_rank, verify_and_rank
from apps.jobs.rounds import ratchet_labels_write, round_data_write, rounds_reap, submission_items_record
from apps.leaderboards.exports import export_run
from apps.submissions.notifications import submission_notify
from apps.submissions.services.leases import Outcome
from apps.submissions.services.reaper import submissions_reap
from apps.submissions.services.validation import submission_validate


@shared_task(
    name=EVALUATE_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.EVALUATION_SOFT_TIME_LIMIT,
    time_limit=settings.EVALUATION_SOFT_TIME_LIMIT + 60,
)
def evaluate_submission(submission_id: int) -> Outcome:
    return evaluate_and_rank(submission_id=submission_id)


@shared_task(
    name=VERIFY_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    # Two sandbox runs (public and concealed inputs), each bounded by its wall-clock limit, plus the comparison.
    soft_time_limit=3 * settings.SANDBOX_WALL_SECONDS + 300,
    time_limit=3 * settings.SANDBOX_WALL_SECONDS + 360,
)
def verify_submission(submission_id: int) -> Outcome:
    return verify_and_rank(submission_id=submission_id)


@shared_task(
    name=RESCORE_COLLECTIVE_TASK,
    acks_late=True,
    soft_time_limit=settings.EVALUATION_SOFT_TIME_LIMIT,
    time_limit=settings.EVALUATION_SOFT_TIME_LIMIT + 60,
)
def rescore_collective(task_id: int) -> int | None:
    return task_rescore_collective(task_id=task_id)


# Well under `exports.STALE_AFTER`, after which a redelivered message may claim a lost export again.
@shared_task(
    name=EXPORT_SUBMISSIONS_TASK, acks_late=True, reject_on_worker_lost=True, soft_time_limit=540, time_limit=600
)
def export_submissions(export_id: int) -> str:
    return export_run(export_id=export_id)


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
        "rounds": rounds_reap(),
    }


# Acknowledged on receipt (not late): a redelivered message would e-mail everyone a second time, and a lost
# e-mail costs less (the submission page shows the outcome). SMTP time-outs are bounded by EMAIL_TIMEOUT.
@shared_task(name=NOTIFY_TASK, acks_late=False, ignore_result=True, soft_time_limit=120, time_limit=150)
def notify_submission(submission_id: int) -> int:
    return submission_notify(submission_id=submission_id)


@shared_task(name=RATCHET_ITEMS_TASK, acks_late=True, reject_on_worker_lost=True, soft_time_limit=600, time_limit=660)
def ratchet_record_items(submission_id: int) -> int:
    return submission_items_record(submission_id=submission_id)


@shared_task(name=RATCHET_LABELS_TASK, acks_late=True, reject_on_worker_lost=True, soft_time_limit=600, time_limit=660)
def ratchet_write_labels(ratchet_id: int) -> bool:
    return ratchet_labels_write(ratchet_id=ratchet_id)


# Long: it trains nothing, but materialises up to top_k training sets (their images) into the test-set task.
@shared_task(name=ROUND_DATA_TASK, acks_late=True, reject_on_worker_lost=True, soft_time_limit=1800, time_limit=1860)
def round_write_data(round_id: int) -> bool:
    return round_data_write(round_id=round_id)
