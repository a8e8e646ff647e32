"""Requeueing a submission for a new evaluation: the primitive of every rescoring. It checks no actor and writes
no audit entry: its callers do, once for one submission (`backoffice.services.submissions.submission_rescore`) or
once for many (`backoffice.services.tasks.task_rescore`, `submissions.services.slices.task_add_discovered_slice`)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from apps.submissions.models import Submission
from apps.submissions.services.dispatch import enqueue_evaluation

Status = Submission.Status


def submission_queue_rescore(*, submission: Submission) -> bool:
    """Queue a scored or failed submission for a new evaluation (after a data or evaluator change).

    The previous evaluation stays current until the new one is recorded, so the leaderboard never loses the
    row meanwhile. Returns False when the submission is not in a state that can be rescored. Unaudited: call it
    from a service that checks the organizer and records the rescoring.
    """
    with transaction.atomic():
        updated = Submission.objects.filter(pk=submission.pk, status__in=[Status.SCORED, Status.FAILED]).update(
            status=Status.QUEUED,
            attempts=0,
            queued_at=timezone.now(),
            message="",
            progress=0.0,
            progress_message="Queued for rescoring",
        )
        if updated:
            enqueue_evaluation(submission.pk)
    return bool(updated)
