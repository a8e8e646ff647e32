"""Collective scoring: benchmarks where one submission's score depends on the others (test-set creation
divides an item's credit among every submission that holds it).

Each landed score asks for a task-wide rescore (`collective_request`); one job (`task_rescore_collective`)
re-scores every ranked submission of the task, each division's together, and serves every request made
before it started. Results are new immutable evaluations (round n of the task), committed with the
leaderboard rebuild.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.challenges.evaluators import task_evaluator, task_loaded
from apps.challenges.models import Task
from apps.leaderboards.services import leaderboards_rebuild_for_task
from apps.submissions.models import Submission
from apps.submissions.services.artifacts import artifact_path
from apps.submissions.services.dispatch import enqueue_collective_rescore
from apps.submissions.services.evaluation import evaluation_store
from apps.submissions.services.leases import worker_name
from evaluators import EvaluationResult, SubmissionError
from evaluators.base import CollectiveEvaluator

log = logging.getLogger(__name__)


def is_collective(task: Task) -> bool:
    return isinstance(task_evaluator(task), CollectiveEvaluator)


def collective_request(*, task: Task) -> None:
    """Ask for a task-wide rescore once the current transaction commits."""
    Task.objects.filter(pk=task.pk).update(collective_requested=F("collective_requested") + 1)
    enqueue_collective_rescore(task.pk)


def _ranked_by_division(task: Task) -> list[list[Submission]]:
    """The submissions that rank on the task's boards (`Submission.objects.ranking`), one group per division.

    Credit is shared within a division only: each division has its own boards and competition (a closed
    division's submission competes on its own board), so an item's credit is divided among the ranked
    submissions of the same division that hold it, and a submission of another division never dilutes it."""
    ranking = Submission.objects.ranking(task=task).select_related("task__challenge", "division").order_by("pk")
    groups: dict[int, list[Submission]] = {}
    for submission in ranking:
        groups.setdefault(submission.division_id, []).append(submission)
    return list(groups.values())


def _parse_all(evaluator: CollectiveEvaluator[Any, Any], loaded: Any, submissions: list[Submission]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for submission in submissions:
        # Scored once, so valid; if a rule change makes it invalid now, it simply takes no part.
        directory = evaluator.submission_is_directory
        with artifact_path(submission, is_directory=directory) as path, contextlib.suppress(SubmissionError):
            parsed[str(submission.pk)] = evaluator.validate(loaded, path)
    return parsed


def task_rescore_collective(*, task_id: int) -> int | None:
    """Re-score every ranked submission of a collective task, each division's together (`_ranked_by_division`);
    return the new round, or None when there was nothing to do (no pending request, or not a collective task).
    Safe to run twice."""
    task = Task.objects.select_related("challenge").filter(pk=task_id).first()
    if task is None or task.collective_done >= task.collective_requested or not is_collective(task):
        return None
    requested = task.collective_requested
    started = time.monotonic()
    evaluator, loaded = task_loaded(task)
    if not isinstance(evaluator, CollectiveEvaluator):
        return None
    groups = _ranked_by_division(task)
    submissions = [submission for group in groups for submission in group]
    results: dict[str, EvaluationResult] = {}
    for group in groups:
        results.update(evaluator.evaluate_all(loaded, _parse_all(evaluator, loaded, group)))
    with transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task_id)
        if locked.collective_done >= requested:
            return None  # a concurrent job already served these requests
        round_ = requested  # requests served so far: grows with every job that writes
        worker, duration = worker_name(), time.monotonic() - started
        for submission in submissions:
            result = results.get(str(submission.pk))
            if result is None:
                continue
            evaluation = evaluation_store(
                submission=submission,
                evaluator=evaluator,
                result=result,
                collective_round=round_,
                worker=worker,
                duration=duration,
            )
            Submission.objects.filter(pk=submission.pk).update(current_evaluation=evaluation)
        Task.objects.filter(pk=task_id).update(collective_done=requested, collective_rescored_at=timezone.now())
        leaderboards_rebuild_for_task(task=locked)
    log.info("collective rescore of task %s: round %s, %s submissions", task_id, round_, len(submissions))
    return round_
