"""Submitting and scoring the demo's submissions through the platform's own steps, with the real evaluator run
once per distinct artifact of a task, and the simulated history's dates.

A demo build scores hundreds of submissions, many of them the same file (teams start from a public baseline,
or submit the same mixture): the scorer claims each one as a worker would (`submission_claim`), evaluates its
artifact unless an identical artifact of the same task was evaluated in this build, and records the result
(`submission_record`). No score is ever invented. The boards are not rebuilt at each record, as the pipeline
does: nobody reads them while the demo is built, and the build dates every submission back afterwards (the
boards copy the dates), so it ranks each task once, at the end (`history.history_settle`)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files import File
from django.db.models import F

from apps.challenges.evaluators import task_loaded
from apps.challenges.models import Task
from apps.divisions.models import Division
from apps.submissions.models import Evaluation, Submission
from apps.submissions.services.artifacts import artifact_path
from apps.submissions.services.evaluation import EVALUATION, submission_claim, submission_record
from apps.submissions.services.intake import SubmissionInput, submission_create
from apps.submissions.services.leases import Outcome, worker_name
from apps.submissions.services.reaper import submissions_reap
from evaluators import EvaluationResult, Evaluator, SubmissionError

Status = Submission.Status
SHIFTED = ("created_at", "validation_started_at", "last_sent_at", "queued_at", "started_at", "finished_at")
"""A submission's times, moved together by `submission_backdate`."""


def submit_artifact(
    task: Task, division: Division, user: User, artifact: Path, *, method: str, as_baseline: bool = False
) -> Submission:
    """Submit a file (a directory is zipped first by the caller) as `user`, through `submission_create`: the
    returned submission is queued, or rejected by validation."""
    with artifact.open("rb") as handle:
        data = SubmissionInput(
            artifact=File(handle, name=artifact.name), artifact_name=artifact.name, method_description=method
        )
        return submission_create(task=task, division=division, user=user, data=data, as_baseline=as_baseline)


@dataclass(frozen=True)
class Scored:
    """One evaluator run: the result every identical artifact of the task records."""

    evaluator: Evaluator[Any, Any]
    result: EvaluationResult
    seconds: float


class DemoScorer:
    """Scores queued submissions, each distinct artifact of a task evaluated once (key: task, its data version
    and the artifact's sha256). One per build: nothing outlives it."""

    def __init__(self) -> None:
        self._runs: dict[tuple[int, int, str], Scored] = {}
        self.evaluated = 0
        """How many evaluator runs the scorer made (the others were served from the runs before)."""
        self.scored = 0
        """How many submissions it recorded."""

    def score(self, submission_id: int) -> Scored | None:
        """Claim, evaluate (or reuse) and record one queued submission; its run, or None when it was not
        recorded (nothing to claim, or rejected by the full validation: rejected as the pipeline rejects)."""
        worker = worker_name()
        submission = submission_claim(submission_id=submission_id, worker=worker)
        if submission is None:
            return None
        try:
            scored = self._run(submission)
        except SubmissionError as exc:
            attempt = EVALUATION.attempt(submission_id=submission_id, worker=worker)
            attempt.end(status=Status.REJECTED, message=str(exc))
            return None
        recorded = submission_record(
            submission=submission,
            worker=worker,
            evaluator=scored.evaluator,
            result=scored.result,
            duration=scored.seconds,
            on_recorded=_ranked_later,
        )
        self.scored += int(recorded)
        return scored if recorded else None

    def _run(self, submission: Submission) -> Scored:
        """The task's run for this artifact: made now, or the one made for an identical artifact before (its
        duration is the run's)."""
        task = submission.task
        key = (task.pk, task.data_version, submission.artifact_sha256)
        if key not in self._runs:
            started = time.monotonic()
            evaluator, loaded = task_loaded(task)
            with artifact_path(submission, is_directory=evaluator.submission_is_directory) as path:
                result = evaluator.evaluate(loaded, evaluator.validate(loaded, path))
            self._runs[key] = Scored(evaluator, result, time.monotonic() - started)
            self.evaluated += 1
        return self._runs[key]


def _ranked_later(submission: Submission) -> None:
    """The scorer's `on_recorded`: nothing now; the build ranks every task once its history is dated."""


def submission_lose_worker(submission_id: int) -> Outcome:
    """Claim the queued submission as a worker that then dies, again and again: the reaper, run as the beat runs
    it once the lease has expired (`now` a second after it), requeues it until the attempts are spent, then fails
    it. Returns FAILED once it has, SKIPPED when there was nothing to claim."""
    for _ in range(settings.EVALUATION_MAX_ATTEMPTS):
        claimed = submission_claim(submission_id=submission_id, worker=worker_name())
        if claimed is None or claimed.lease_expires_at is None:
            return Outcome.SKIPPED
        submissions_reap(now=claimed.lease_expires_at + dt.timedelta(seconds=1))
    failed = Submission.objects.filter(pk=submission_id, status=Status.FAILED).exists()
    return Outcome.FAILED if failed else Outcome.SKIPPED


def submission_backdate(submission_id: int, at: dt.datetime) -> None:
    """Move the submission to `at`: every time of it (`SHIFTED`) and of its evaluations by the same amount, so
    that what took seconds still takes them. The caller rebuilds the boards, which copy `created_at`."""
    created = Submission.objects.filter(pk=submission_id).values_list("created_at", flat=True).get()
    shift = at - created
    Submission.objects.filter(pk=submission_id).update(**{name: F(name) + shift for name in SHIFTED})
    Evaluation.objects.filter(submission_id=submission_id).update(created_at=F("created_at") + shift)
