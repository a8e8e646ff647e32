"""Slice discovery: an organizer adds a slice that a submission discovered to the task's ground truth (the
paper: "adds newly discovered useful slices into the ground truth"), then every scored submission is rescored
against the extended ground truth. The service checks the organizer and writes its own audit entry."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from django.contrib.auth.models import User
from django.core.files import File
from django.db import transaction

from apps.challenges.audit import audit_record, require_organizer
from apps.challenges.models import AuditAction, Task
from apps.challenges.services import task_data_file_put
from apps.core.errors import InvalidInput
from apps.submissions.models import Submission
from apps.submissions.services.admin_actions import submission_queue_rescore
from apps.submissions.services.artifacts import artifact_path
from evaluators import EvaluatorError
from evaluators.slice_discovery.ground_truth import (
    add_ground_truth_slice,
    config_with_file_slices,
    slice_from_submission,
)

SLICE_DISCOVERY = "slice-discovery"
SLICES_FILE = "test_slices.csv"
PREDICTIONS_FILE = "test_predictions.csv"


def task_add_discovered_slice(
    *,
    submission: Submission,
    actor: User,
    column: str,
    name: str,
    threshold: float = 0.5,
    complement: bool = False,
) -> int:
    """Add `submission`'s predicted slice `column` (members: score above `threshold`, or at most it with
    `complement`) to the ground truth as `name`, queue the task's rescorable submissions
    (`Submission.objects.rescorable`) for rescoring, and write one audit entry. Returns how many were queued.
    Raises `Forbidden` unless the actor organizes the challenge, and `InvalidInput` with the evaluator's reason
    (unknown column, a name in use, an empty slice, a slice equal to an existing one ...); nothing is recorded
    then."""
    challenge = submission.task.challenge
    require_organizer(challenge=challenge, actor=actor)
    if submission.task.evaluator_slug != SLICE_DISCOVERY:
        raise InvalidInput("Only slice-discovery tasks have ground-truth slices.")
    with transaction.atomic():
        # One addition at a time per task: two at once would each keep only their own new column.
        task = Task.objects.select_for_update().get(pk=submission.task_id)
        _add_slice(task, submission, column=column, name=name, threshold=threshold, complement=complement)
        queued = sum(submission_queue_rescore(submission=item) for item in Submission.objects.rescorable(task=task))
        audit_record(
            challenge=challenge,
            actor=actor,
            action=AuditAction.TASK_SLICE,
            submission_id=submission.pk,
            summary=f"Added slice {name!r} (column {column!r} of submission #{submission.pk}) to the ground truth "
            f"of task {task.slug}; {queued} submission(s) queued for rescoring.",
            details={
                "task": task.slug,
                "slice": name,
                "column": column,
                "threshold": threshold,
                "complement": complement,
                "queued": queued,
            },
        )
    return queued


def _add_slice(
    task: Task, submission: Submission, *, column: str, name: str, threshold: float, complement: bool
) -> None:
    with tempfile.TemporaryDirectory(prefix="slices-") as tmp:
        work = Path(tmp)
        for name_ in (SLICES_FILE, PREDICTIONS_FILE):
            shutil.copyfile(task.data_dir / name_, work / name_)
        try:
            with artifact_path(submission, is_directory=False) as path:
                members = slice_from_submission(work, path, column, threshold, complement=complement)
            add_ground_truth_slice(work, name=name, member_ids=members)
            config = config_with_file_slices(task.config, work)
        except EvaluatorError as exc:
            raise InvalidInput(str(exc)) from exc
        with (work / SLICES_FILE).open("rb") as handle:
            task_data_file_put(task=task, relative_path=SLICES_FILE, content=File(handle))
        Task.objects.filter(pk=task.pk).update(config=config)
