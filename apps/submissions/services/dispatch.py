"""Sending pipeline tasks to the broker, by name, after the transaction that made them necessary commits."""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction
from kombu.exceptions import KombuError

from apps.core.queues import (
    EVALUATE_QUEUE,
    EVALUATE_TASK,
    NOTIFY_TASK,
    RESCORE_COLLECTIVE_TASK,
    SANDBOX_QUEUE,
    VALIDATE_QUEUE,
    VALIDATE_TASK,
    VERIFY_TASK,
)

log = logging.getLogger(__name__)


def _send(task_name: str, queue: str, object_id: int, countdown: float) -> None:
    try:
        current_app.send_task(task_name, args=[object_id], queue=queue, countdown=countdown or None)
    except (KombuError, OSError) as exc:
        # The row is committed in its waiting state; the reaper re-sends it once the broker is back.
        log.warning("could not send %s for %s (%s); the reaper will resend it", task_name, object_id, exc)


def enqueue_evaluation(submission_id: int, *, countdown: float = 0) -> None:
    transaction.on_commit(lambda: _send(EVALUATE_TASK, EVALUATE_QUEUE, submission_id, countdown))


def enqueue_verification(submission_id: int, *, countdown: float = 0) -> None:
    """Rerun a closed-division submission's code, on the sandbox queue's workers."""
    transaction.on_commit(lambda: _send(VERIFY_TASK, SANDBOX_QUEUE, submission_id, countdown))


def enqueue_notification(submission_id: int) -> None:
    """E-mail the outcome of a submission (a lost message loses only the e-mail: the page shows the outcome)."""
    transaction.on_commit(lambda: _send(NOTIFY_TASK, VALIDATE_QUEUE, submission_id, 0))


def enqueue_validation(submission_id: int) -> None:
    transaction.on_commit(lambda: _send(VALIDATE_TASK, VALIDATE_QUEUE, submission_id, 0))


def enqueue_collective_rescore(task_id: int) -> None:
    """A task-wide rescore of a collective benchmark (after a short delay, so that a burst of landing scores
    is served by one job)."""
    transaction.on_commit(lambda: _send(RESCORE_COLLECTIVE_TASK, EVALUATE_QUEUE, task_id, 2))
