"""Sending tasks to the broker, by name, after the transaction that made them necessary commits: the one
outbound boundary to Celery. Each task goes to its queue in `apps.core.queues.SENT_TO`.

A message the broker cannot take is logged and dropped: the row that needed it is committed in its waiting
state, and the reaper re-sends it once the broker is back. Exports have no reaper: theirs record the failure
(`enqueue_export`)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import current_app
from django.db import transaction
from kombu.exceptions import KombuError

from apps.core.queues import (
    EVALUATE_TASK,
    EXPORT_SUBMISSIONS_TASK,
    NOTIFY_TASK,
    RATCHET_ITEMS_TASK,
    RATCHET_LABELS_TASK,
    RESCORE_COLLECTIVE_TASK,
    ROUND_DATA_TASK,
    SENT_TO,
    VALIDATE_TASK,
    VERIFY_TASK,
)

log = logging.getLogger(__name__)


def _send(task_name: str, queue: str, object_id: int, countdown: float) -> None:
    """Hand one message to the broker. Raises `KombuError` or `OSError` when the broker cannot take it."""
    current_app.send_task(task_name, args=[object_id], queue=queue, countdown=countdown or None)


def _deliver(task_name: str, object_id: int, countdown: float, on_unsent: Callable[[], None] | None) -> None:
    try:
        _send(task_name, SENT_TO[task_name], object_id, countdown)
    except (KombuError, OSError) as exc:
        log.warning("could not send %s for %s (%s)", task_name, object_id, exc)
        if on_unsent is not None:
            on_unsent()


def _send_on_commit(
    task_name: str, object_id: int, *, countdown: float = 0, on_unsent: Callable[[], None] | None = None
) -> None:
    transaction.on_commit(lambda: _deliver(task_name, object_id, countdown, on_unsent))


def enqueue_evaluation(submission_id: int, *, countdown: float = 0) -> None:
    _send_on_commit(EVALUATE_TASK, submission_id, countdown=countdown)


def enqueue_verification(submission_id: int, *, countdown: float = 0) -> None:
    """Rerun a closed-division submission's code, on the sandbox queue's workers."""
    _send_on_commit(VERIFY_TASK, submission_id, countdown=countdown)


def enqueue_notification(submission_id: int) -> None:
    """E-mail the outcome of a submission (a lost message loses only the e-mail: the page shows the outcome)."""
    _send_on_commit(NOTIFY_TASK, submission_id)


def enqueue_validation(submission_id: int) -> None:
    _send_on_commit(VALIDATE_TASK, submission_id)


def enqueue_collective_rescore(task_id: int) -> None:
    """A task-wide rescore of a collective benchmark (after a short delay, so that a burst of landing scores
    is served by one job)."""
    _send_on_commit(RESCORE_COLLECTIVE_TASK, task_id, countdown=2)


def enqueue_export(export_id: int, *, on_unsent: Callable[[], None]) -> None:
    """An organizers' export, on the queue of long jobs. No reaper re-sends exports: `on_unsent` runs (after
    the commit, outside any transaction) when the broker cannot take the message, to record the failure."""
    _send_on_commit(EXPORT_SUBMISSIONS_TASK, export_id, on_unsent=on_unsent)


def enqueue_ratchet_items(submission_id: int) -> None:
    """Record the new items of a scored submission to a ratchet's test-set task (lost: the next rescore or the
    organizer's close finds them missing; the submission's score does not depend on it)."""
    _send_on_commit(RATCHET_ITEMS_TASK, submission_id)


def enqueue_ratchet_labels(ratchet_id: int) -> None:
    """Write the labels validation decided into a ratchet's test-set task (after a short delay, so that a burst
    of answers is served by one job; the round's data job writes them too)."""
    _send_on_commit(RATCHET_LABELS_TASK, ratchet_id, countdown=5)


def enqueue_round_data(round_id: int) -> None:
    """Write a round's suite and test data and rescore (the reaper re-sends it while the data is not written)."""
    _send_on_commit(ROUND_DATA_TASK, round_id)
