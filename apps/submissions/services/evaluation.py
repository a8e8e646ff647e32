"""Evaluating a queued submission: claim with a lease, run the evaluator, record the scores exactly once."""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from apps.challenges.evaluators import task_concealed_loaded, task_loaded
from apps.submissions.models import Evaluation, Score, Submission
from apps.submissions.services.artifacts import artifact_path, file_as_artifact
from apps.submissions.services.dispatch import enqueue_evaluation, enqueue_notification
from apps.submissions.services.leases import LeasedJob, LeaseKeeper, OnRecorded, Outcome
from evaluators import EvaluationResult, Evaluator, EvaluatorError, SubmissionError
from evaluators.runtime import environment_fingerprint

log = logging.getLogger(__name__)
Status = Submission.Status
CONCEALED_DETAILS_KEY = "concealed_metrics"
"""Carries the concealed run's metrics from the evaluation to the store, where they become `concealed` scores
(and are dropped from the stored details)."""


EVALUATION = LeasedJob(
    held=Status.RUNNING,
    free=Q(status=Status.QUEUED),
    waiting=Status.QUEUED,
    enqueue=enqueue_evaluation,
    first_step="Starting",
    interrupted="The evaluation was interrupted {times} times; giving up.",
    message_while_retrying=True,
)
"""An evaluation: of a `queued` submission, `running` while a worker holds it."""


def submission_claim(*, submission_id: int, worker: str) -> Submission | None:
    """Take the submission for this worker: `queued`, or `running` under an expired lease (its worker died).
    None when there is nothing to do (already scored, claimed by a live worker, cancelled ...); of two workers
    racing for the same row exactly one wins (`LeasedAttempt.claim`)."""
    return EVALUATION.attempt(submission_id=submission_id, worker=worker).claim()


def _environment(evaluator: Evaluator[Any, Any]) -> dict[str, str]:
    return {"evaluator": evaluator.version, **environment_fingerprint()}


WHOLE_SET_KEY = "whole_set"
"""Where a task with a private split keeps the whole evaluation set's values (the reference's definition):
under `details["sealed"]`, so organizers see them at once and teams once the challenge has ended; beside the
public values they would give the private ones away."""


def _split_scores(result: EvaluationResult, primary: str) -> list[tuple[str, dict[str, float]]]:
    """(split, metric -> value) of what a result scores: public and private when the task has a private split
    (whole-set values are sealed, `stored_details`), else public = the whole set; and the concealed run's."""
    if result.splits:
        scored = [
            (Score.Split.PUBLIC.value, {primary: result.splits["public"].primary, **result.splits["public"].metrics}),
            (
                Score.Split.PRIVATE.value,
                {primary: result.splits["private"].primary, **result.splits["private"].metrics},
            ),
        ]
    else:
        scored = [(Score.Split.PUBLIC.value, {primary: result.primary, **result.metrics})]
    concealed = result.details.get(CONCEALED_DETAILS_KEY)
    if concealed:
        scored.append((Score.Split.CONCEALED.value, dict(concealed)))
    return scored


def stored_details(result: EvaluationResult, primary: str) -> dict[str, Any]:
    """The details an evaluation keeps: without the concealed run's metrics (they become scores) and, with a
    private split, with the whole set's values under `details["sealed"][WHOLE_SET_KEY]`."""
    details = {key: value for key, value in result.details.items() if key != CONCEALED_DETAILS_KEY}
    if result.splits:
        whole = {"primary": result.primary, "metrics": {primary: result.primary, **result.metrics}}
        details["sealed"] = {**details.get("sealed", {}), WHOLE_SET_KEY: whole}
    return details


def evaluation_store(
    *,
    submission: Submission,
    evaluator: Evaluator[Any, Any],
    result: EvaluationResult,
    collective_round: int,
    worker: str,
    duration: float,
) -> Evaluation:
    """The immutable evaluation and its scores for (submission, evaluator version, data version, collective round;
    0 outside collective rescoring): public scores, private ones when the task has a private split, concealed
    ones when the closed division's concealed run produced some (`_split_scores`).
    Idempotent: when it exists already, it is returned unchanged (a repeated run never writes twice)."""
    task = submission.task
    primary = evaluator.primary_metric(task.config)
    evaluation, created = Evaluation.objects.get_or_create(
        submission=submission,
        evaluator_version=evaluator.version,
        data_version=task.data_version,
        round=collective_round,
        defaults={
            "evaluator_slug": evaluator.slug,
            "primary_metric": primary.name,
            "details": stored_details(result, primary.name),
            "environment": _environment(evaluator),
            "worker": worker,
            "duration_seconds": duration,
        },
    )
    if created:
        Score.objects.bulk_create(
            Score(evaluation=evaluation, split=split, metric=name, value=float(value))
            for split, values in _split_scores(result, primary.name)
            for name, value in values.items()
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
    attempt = EVALUATION.attempt(submission_id=submission.pk, worker=worker)

    def write(locked: Submission) -> None:
        evaluation = evaluation_store(
            submission=locked, evaluator=evaluator, result=result, collective_round=0, worker=worker, duration=duration
        )
        attempt.release(
            status=Status.SCORED,
            current_evaluation=evaluation,
            finished_at=timezone.now(),
            progress=1.0,
            progress_message="Scored",
            message="",
        )
        locked.refresh_from_db()
        on_recorded(locked)
        enqueue_notification(locked.pk)

    return attempt.record(write)


def submission_evaluate(*, submission_id: int, worker: str, on_recorded: OnRecorded) -> Outcome:
    """Claim, validate fully, evaluate and record one submission. Safe to call any number of times.

    Returns what happened: SKIPPED (nothing to claim), SCORED, LOST_LEASE, REJECTED or FAILED (for good, or
    queued to be retried). A participant's fault ends in `rejected`; an unexpected evaluator fault is retried
    up to the budget. `on_recorded` runs in the transaction that records the score, or that rejects a
    submission that ranked before (a rescore): the leaderboard rebuild, orchestrated by the layer above.
    """
    attempt = EVALUATION.attempt(submission_id=submission_id, worker=worker)
    submission = attempt.begin()
    if isinstance(submission, Outcome):
        return submission
    try:
        with attempt.heartbeat() as keeper:
            result, evaluator, duration = _run_evaluator(submission, keeper)
    except SubmissionError as exc:
        return attempt.end(status=Status.REJECTED, message=str(exc), on_finished=on_recorded)
    except (EvaluatorError, SoftTimeLimitExceeded) as exc:
        return attempt.end(status=Status.FAILED, message=_failure_message(exc))
    except Exception as exc:
        log.exception("evaluating submission %s failed", submission_id)
        return attempt.retry(message=f"The evaluator failed unexpectedly ({type(exc).__name__}).")
    if keeper.lost.is_set():
        return Outcome.LOST_LEASE
    recorded = submission_record(
        submission=submission,
        worker=worker,
        evaluator=evaluator,
        result=result,
        duration=duration,
        on_recorded=on_recorded,
    )
    return Outcome.SCORED if recorded else Outcome.LOST_LEASE


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
