"""Celery tasks of the evaluation pipeline. Each takes an id and calls one service; all are safe to rerun."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from apps.challenges.models import Task
from apps.core.queues import (
    EVALUATE_TASK,
    EXPORT_SUBMISSIONS_TASK,
    REBUILD_LEADERBOARDS_TASK,
    RESCORE_COLLECTIVE_TASK,
    VERIFY_TASK,
)
from apps.leaderboards.collective import task_rescore_collective
from apps.leaderboards.exports import export_run
from apps.leaderboards.pipeline import evaluate_and_rank, verify_and_rank
from apps.leaderboards.services import leaderboards_rebuild_for_task


@shared_task(
    name=EVALUATE_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.EVALUATION_SOFT_TIME_LIMIT,
    time_limit=settings.EVALUATION_SOFT_TIME_LIMIT + 60,
)
def evaluate_submission(submission_id: int) -> str:
    return evaluate_and_rank(submission_id=submission_id)


@shared_task(
    name=VERIFY_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    # Two sandbox runs (public and concealed inputs), each bounded by its wall-clock limit, plus the comparison.
    soft_time_limit=3 * settings.SANDBOX_WALL_SECONDS + 300,
    time_limit=3 * settings.SANDBOX_WALL_SECONDS + 360,
)
def verify_submission(submission_id: int) -> str:
    return verify_and_rank(submission_id=submission_id)


@shared_task(name=REBUILD_LEADERBOARDS_TASK, acks_late=True)
def rebuild_leaderboards(task_id: int) -> int:
    task = Task.objects.filter(pk=task_id).first()
    return 0 if task is None else leaderboards_rebuild_for_task(task=task)


@shared_task(
    name=RESCORE_COLLECTIVE_TASK,
    acks_late=True,
    soft_time_limit=settings.EVALUATION_SOFT_TIME_LIMIT,
    time_limit=settings.EVALUATION_SOFT_TIME_LIMIT + 60,
)
def rescore_collective(task_id: int) -> int | None:
    return task_rescore_collective(task_id=task_id)


# Well under `exports.STALE_AFTER`, after which a redelivered message may claim a lost export again.
@shared_task(name=EXPORT_SUBMISSIONS_TASK, acks_late=True, reject_on_worker_lost=True, soft_time_limit=540,
             time_limit=600)  # fmt: skip
def export_submissions(export_id: int) -> str:
    return export_run(export_id=export_id)
