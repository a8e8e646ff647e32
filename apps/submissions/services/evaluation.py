"""Evaluating a queued submission: claim with a lease, run the evaluator, record the scores exactly once."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.challenges.evaluators import task_concealed_loaded, task_loaded
from apps.submissions.models import Evaluation, Score, Submission
from apps.submissions.notifications import submission_notify_later
from apps.submissions.services.artifacts import artifact_path, file_as_artifact
from apps.submissions.services.dispatch import enqueue_evaluation
from apps.submissions.services.leases import LeaseKeeper, lease_deadline
from evaluators import EvaluationResult, Evaluator, EvaluatorError, SubmissionError
from evaluators.inputs import safe_text
from evaluators.runtime import environment_fingerprint

log = logging.getLogger(__name__)
Status = Submission.Status
OnRecorded = Callable[[Submission], None]
CONCEALED_DETAILS_KEY = "concealed_metrics"
"""Carries the concealed run's metrics from the evaluation to the store, where they become `concealed` scores
(and are dropped from the stored details)."""


def submission_claim(*, submission_id: int, worker: str) -> Submission | None:
    """Take the submission for this worker: `queued`, or `running` under an expired lease (its worker died).

    One conditional UPDATE, so of two workers racing for the same row exactly one wins. Returns None when
    there is nothing to do (already scored, claimed by a live worker, cancelled ...).
    """
    now = timezone.now()
    claimable = Q(status=Status.QUEUED) | Q(status=Status.RUNNING, lease_expires_at__lt=now)
    claimed = Submission.objects.filter(claimable, pk=submission_id).update(
        status=Status.RUNNING,
        lease_owner=worker,
        lease_expires_at=lease_deadline(now),
        started_at=now,
        attempts=F("attempts") + 1,
        progress=0.0,
        progress_message="Starting",
    )
    if not claimed:
        return None
    return Submission.objects.select_related("task__challenge", "division", "team").get(pk=submission_id)


def _environment(evaluator: Evaluator[Any, Any]) -> dict[str, str]:
    return {"evaluator": evaluator.version, **environment_fingerprint()}


def evaluation_store(
    *,
    submission: Submission,
    evaluator: Evaluator[Any, Any],
    result: EvaluationResult,
    round: int,
    worker: str,
    duration: float,
) -> Evaluation:
    """The immutable evaluation and its scores for (submission, evaluator version, data version, round).
    Idempotent: when it exists already, it is returned unchanged (a repeated run never writes twice)."""
    task = submission.task
    primary = evaluator.primary_metric(task.config)
    details = {key: value for key, value in result.details.items() if key != CONCEALED_DETAILS_KEY}
    evaluation, created = Evaluation.objects.get_or_create(
        submission=submission,
        evaluator_version=evaluator.version,
        data_version=task.data_version,
        round=round,
        defaults={
            "evaluator_slug": evaluator.slug,
            "primary_metric": primary.name,
            "details": details,
            "environment": _environment(evaluator),
            "worker": worker,
            "duration_seconds": duration,
        },
    )
    if created:
        values = {primary.name: result.primary, **result.metrics}
        concealed = result.details.get(CONCEALED_DETAILS_KEY, {})
        Score.objects.bulk_create(
            [
                *(
                    Score(evaluation=evaluation, split=Score.Split.PUBLIC, metric=name, value=float(value))
                    for name, value in values.items()
                ),
                *(
                    Score(evaluation=evaluation, split=Score.Split.CONCEALED, metric=name, value=float(value))
                    for name, value in concealed.items()
                ),
            ]
        )
    return evaluation


def submission_record(
    *,
    submission: Submission,
    worker: str,
    evaluator: Evaluator[Any, Any],
    result: EvaluationResult,
    duration: float,
    on_recorded: OnRecorded,
) -> bool:
    """Write the evaluation, its scores and the `scored` state in one transaction, then call `on_recorded`
    inside it (the leaderboard rebuild), so a score is never visible without its ranking.

    Returns False, writing nothing, when this worker no longer holds the lease: the run that holds it will
    record. The unique evaluation per (submission, evaluator version, data version) makes a repeat a no-op.
    """
    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        if locked.status != Status.RUNNING or locked.lease_owner != worker:
            return False
        evaluation = evaluation_store(
            submission=locked, evaluator=evaluator, result=result, round=0, worker=worker, duration=duration
        )
        Submission.objects.filter(pk=locked.pk).update(
            status=Status.SCORED,
            current_evaluation=evaluation,
            finished_at=timezone.now(),
            progress=1.0,
            progress_message="Scored",
            message="",
            lease_owner="",
            lease_expires_at=None,
        )
        locked.refresh_from_db()
        on_recorded(locked)
        submission_notify_later(locked.pk)
    return True


def submission_end_attempt(
    *, submission_id: int, worker: str, status: str, message: str, retry: bool, on_finished: OnRecorded | None = None
) -> None:
    """End this worker's attempt: reject, fail, or (when `retry` and attempts remain) queue it again.

    `on_finished` runs in the same transaction when a previously scored submission (a rescore) is rejected: it
    no longer ranks, so its leaderboard must be rebuilt with it.
    """
    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=submission_id)
        if locked.status != Status.RUNNING or locked.lease_owner != worker:
            return
        # safe_text: an evaluator's message may hold characters PostgreSQL refuses (see `_finish` of validation).
        fields: dict[str, Any] = {"lease_owner": "", "lease_expires_at": None, "message": safe_text(message)}
        if retry and locked.attempts < settings.EVALUATION_MAX_ATTEMPTS:
            fields.update(status=Status.QUEUED, queued_at=timezone.now(), progress_message="Waiting to retry")
            enqueue_evaluation(submission_id, countdown=min(5 * 2**locked.attempts, 300))
        else:
            fields.update(status=status, finished_at=timezone.now())
            submission_notify_later(submission_id)
        Submission.objects.filter(pk=submission_id).update(**fields)
        if on_finished is not None and status == Status.REJECTED and locked.current_evaluation_id is not None:
            locked.refresh_from_db()
            on_finished(locked)


def submission_evaluate(*, submission_id: int, worker: str, on_recorded: OnRecorded) -> str:
    """Claim, validate fully, evaluate and record one submission. Safe to call any number of times.

    Returns what happened: "skipped" (nothing to claim), "scored", "lost-lease", "rejected", "failed".
    A participant's fault ends in `rejected`; an unexpected evaluator fault is retried up to the budget.
    """
    submission = submission_claim(submission_id=submission_id, worker=worker)
    if submission is None:
        return "skipped"
    if submission.attempts > settings.EVALUATION_MAX_ATTEMPTS:
        message = f"The evaluation was interrupted {submission.attempts - 1} times; giving up."
        submission_end_attempt(
            submission_id=submission_id, worker=worker, status=Status.FAILED, message=message, retry=False
        )
        return "failed"
    try:
        with LeaseKeeper(submission_id, worker) as keeper:
            result, evaluator, duration = _run_evaluator(submission, keeper)
        if keeper.lost.is_set():
            return "lost-lease"
    except SubmissionError as exc:
        submission_end_attempt(
            submission_id=submission_id,
            worker=worker,
            status=Status.REJECTED,
            message=str(exc),
            retry=False,
            on_finished=on_recorded,
        )
        return "rejected"
    except (EvaluatorError, SoftTimeLimitExceeded) as exc:
        message = _failure_message(exc)
        submission_end_attempt(
            submission_id=submission_id, worker=worker, status=Status.FAILED, message=message, retry=False
        )
        return "failed"
    except Exception as exc:
        log.exception("evaluating submission %s failed", submission_id)
        message = f"The evaluator failed unexpectedly ({type(exc).__name__})."
        submission_end_attempt(
            submission_id=submission_id, worker=worker, status=Status.FAILED, message=message, retry=True
        )
        return "failed"
    recorded = submission_record(
        submission=submission,
        worker=worker,
        evaluator=evaluator,
        result=result,
        duration=duration,
        on_recorded=on_recorded,
    )
    return "scored" if recorded else "lost-lease"


def _failure_message(exc: BaseException) -> str:
    if isinstance(exc, SoftTimeLimitExceeded):
        return "The evaluation exceeded its time limit."
    log.error("task configuration error: %s", exc)
    return "The task's data or configuration is broken; the organizers have been told."


def _run_evaluator(submission: Submission, keeper: LeaseKeeper) -> tuple[EvaluationResult, Evaluator[Any, Any], float]:
    try:
        return _evaluated(submission, keeper)
    finally:
        _recycle_idle_connection()


def _recycle_idle_connection() -> None:
    """The connection that claimed the submission sat idle while the evaluator ran (minutes, hours): a database
    restart, a failover or an idle timeout may have closed it. Let Django check it (health check, maximum age)
    before the outcome is written, so that a dropped connection costs a reconnection, not the evaluation.
    Inside a caller's transaction the connection is not ours to replace."""
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()


def _evaluated(submission: Submission, keeper: LeaseKeeper) -> tuple[EvaluationResult, Evaluator[Any, Any], float]:
    started = time.monotonic()
    keeper.report(0.0, "Loading task data")
    evaluator, loaded = task_loaded(submission.task)
    with artifact_path(submission, is_directory=evaluator.submission_is_directory) as path:
        keeper.report(0.0, "Validating the submission")
        parsed = evaluator.validate(loaded, path)
    result = evaluator.evaluate(loaded, parsed, keeper.report)
    if submission.concealed_output and submission.task.has_concealed_task:
        keeper.report(0.95, "Scoring the output on the concealed task")
        result = _with_concealed(submission, result)
    return result, evaluator, time.monotonic() - started


def _with_concealed(submission: Submission, result: EvaluationResult) -> EvaluationResult:
    """The result with the concealed run's metrics under the `concealed` key. The concealed task's details
    (its charts) are not kept: they could reveal it. A fault here costs only the concealed score."""
    evaluator, loaded = task_concealed_loaded(submission.task)
    stored = Path(submission.concealed_output.path)
    name = Path(submission.concealed_output.name or "output").name
    try:
        with file_as_artifact(stored, name, is_directory=evaluator.submission_is_directory) as path:
            concealed = evaluator.evaluate(loaded, evaluator.validate(loaded, path))
    except (SubmissionError, EvaluatorError) as exc:
        log.error("submission %s: no concealed score: %s", submission.pk, exc)
        return result
    primary = evaluator.primary_metric(submission.task.concealed_config or {})
    metrics = {primary.name: concealed.primary, **concealed.metrics}
    return dataclasses.replace(result, details={**result.details, CONCEALED_DETAILS_KEY: metrics})
