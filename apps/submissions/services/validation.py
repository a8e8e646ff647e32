"""Validation: the evaluator checks the artifact against the task's public data."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from apps.challenges.evaluators import task_loaded
from apps.submissions.models import Submission
from apps.submissions.services.artifacts import artifact_path
from apps.submissions.services.dispatch import enqueue_evaluation, enqueue_notification
from apps.submissions.services.verification import submission_start_verification, verification_needed
from evaluators import EvaluatorError, SubmissionError
from evaluators.inputs import safe_text

log = logging.getLogger(__name__)
Status = Submission.Status


def _load(submission_id: int) -> Submission:
    return Submission.objects.select_related("task__challenge", "division", "team").get(pk=submission_id)


def submission_validate(*, submission_id: int) -> Submission:
    """Move a `received` submission to `queued` (and send it to the evaluators) or to `rejected`.

    Claims the row with a conditional update, so a second call (a redelivered message, the web process and a
    worker racing) does nothing and returns the row as it is.
    """
    claimed = Submission.objects.filter(pk=submission_id, status=Status.RECEIVED).update(
        status=Status.VALIDATING, validation_started_at=timezone.now()
    )
    submission = _load(submission_id)
    if not claimed:
        return submission
    try:
        evaluator, loaded = task_loaded(submission.task)
        with artifact_path(submission, is_directory=evaluator.submission_is_directory) as path:
            # `check`, not `validate`: only the verdict is needed here (the evaluation step parses again), and
            # the parsed form of a large upload can be most of the memory a validation takes.
            evaluator.check(loaded, path)
    except SubmissionError as exc:
        return _finish(submission, Status.REJECTED, str(exc))
    except EvaluatorError as exc:
        log.error("task %s is misconfigured: %s", submission.task_id, exc)
        return _finish(submission, Status.FAILED, "The task's data is misconfigured; the organizers have been told.")
    except Exception as exc:
        # A validator bug must not leave the row in `validating` (the reaper would cycle it forever).
        log.exception("validating submission %s crashed", submission_id)
        return _finish(submission, Status.FAILED, f"The validator failed unexpectedly ({type(exc).__name__}).")
    with transaction.atomic():
        if verification_needed(submission):
            submission_start_verification(submission_id=submission_id)
        else:
            Submission.objects.filter(pk=submission_id, status=Status.VALIDATING).update(
                status=Status.QUEUED, queued_at=timezone.now(), progress_message="Waiting for an evaluation worker"
            )
            enqueue_evaluation(submission_id)
    return _load(submission_id)


def _finish(submission: Submission, status: str, message: str) -> Submission:
    # An evaluator's message may echo a NUL or a lone surrogate that PostgreSQL refuses: the write would fail
    # and leave the row `validating` for the reaper to hand out again, forever.
    Submission.objects.filter(pk=submission.pk, status=Status.VALIDATING).update(
        status=status, message=safe_text(message), finished_at=timezone.now()
    )
    enqueue_notification(submission.pk)
    return _load(submission.pk)
