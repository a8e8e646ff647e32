"""Names of Celery queues and tasks, shared by the layer that sends a task and the layer that defines it.

Sending by name lets a lower layer (submissions) enqueue work orchestrated by a higher one (leaderboards)
without importing it.
"""

from __future__ import annotations

VALIDATE_QUEUE = "validate"
EVALUATE_QUEUE = "evaluate"
SANDBOX_QUEUE = "sandbox"
LONG_QUEUE = "long"
"""Background jobs of several minutes that are not evaluations (exports): off `validate`, whose tasks are quick."""

VALIDATE_TASK = "dataperf.validate_submission"
EVALUATE_TASK = "dataperf.evaluate_submission"
VERIFY_TASK = "dataperf.verify_submission"
REAP_TASK = "dataperf.reap_submissions"
RESCORE_COLLECTIVE_TASK = "dataperf.rescore_collective"
NOTIFY_TASK = "dataperf.notify_submission"
EXPORT_SUBMISSIONS_TASK = "dataperf.export_submissions"
RATCHET_ITEMS_TASK = "dataperf.ratchet_record_items"
RATCHET_LABELS_TASK = "dataperf.ratchet_write_labels"
ROUND_DATA_TASK = "dataperf.round_write_data"

SENT_TO: dict[str, str] = {
    VALIDATE_TASK: VALIDATE_QUEUE,
    NOTIFY_TASK: VALIDATE_QUEUE,
    EVALUATE_TASK: EVALUATE_QUEUE,
    RESCORE_COLLECTIVE_TASK: EVALUATE_QUEUE,
    VERIFY_TASK: SANDBOX_QUEUE,
    EXPORT_SUBMISSIONS_TASK: LONG_QUEUE,
    RATCHET_ITEMS_TASK: EVALUATE_QUEUE,
    RATCHET_LABELS_TASK: EVALUATE_QUEUE,
    ROUND_DATA_TASK: LONG_QUEUE,
}
"""The queue each task that the application sends (`apps.submissions.services.dispatch`) goes to. Every one
of them must be declared in CELERY_TASK_QUEUES and consumed by the workers (tests/ops/test_worker_queues.py)."""
