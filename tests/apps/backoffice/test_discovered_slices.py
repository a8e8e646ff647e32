"""Slice discovery: an organizer adds a slice a submission discovered to the ground truth; the task's data
and config change and every scored submission is queued for rescoring."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from apps.challenges.models import AuditAction, AuditEntry, Challenge, Task
from apps.challenges.services import participation_register
from apps.core.errors import Forbidden, InvalidInput
from apps.divisions.models import Division
from apps.jobs.pipeline import evaluate_and_rank
from apps.submissions.models import Submission
from apps.submissions.services.intake import SubmissionInput, submission_create
from apps.submissions.services.slices import task_add_discovered_slice
from tests.conftest import make_user, put_task_data

CASE = Path(__file__).resolve().parents[2] / "fixtures" / "reference_cases" / "slice-discovery" / "n1000_2slices"


@pytest.fixture
def slice_task(challenge: Challenge, open_division: Division) -> Task:
    task = Task.objects.create(
        challenge=challenge,
        slug="slices",
        title="Slices",
        evaluator_slug="slice-discovery",
        ml_task="tabular",
        config={"n_pred_slices": 5},
    )
    put_task_data(task, CASE / "task")
    return task


@pytest.fixture
def scored(slice_task: Task, open_division: Division, challenge: Challenge) -> Submission:
    user = make_user("finder")
    participation_register(challenge=challenge, user=user, accept_rules=True)
    content = (CASE / "submissions" / "submission.csv").read_bytes()
    data = SubmissionInput(artifact=ContentFile(content), artifact_name="submission.csv")
    submission = submission_create(task=slice_task, division=open_division, user=user, data=data)
    assert evaluate_and_rank(submission_id=submission.pk) == "scored"
    submission.refresh_from_db()
    return submission


def _header(task: Task) -> list[str]:
    with (task.data_dir / "test_slices.csv").open() as handle:
        return next(csv.reader(handle))


def test_adding_a_discovered_slice_extends_the_ground_truth_and_queues_rescoring(
    scored: Submission, slice_task: Task, organizer: User
) -> None:
    version = slice_task.data_version

    queued = task_add_discovered_slice(submission=scored, actor=organizer, column="slice_2", name="found_by_finder")

    slice_task.refresh_from_db()
    scored.refresh_from_db()
    assert queued == 1
    assert _header(slice_task)[-1] == "found_by_finder"
    assert slice_task.config["slices"][-1] == "found_by_finder"
    assert slice_task.data_version > version
    assert scored.status == Submission.Status.QUEUED
    assert evaluate_and_rank(submission_id=scored.pk) == "scored"
    scored.refresh_from_db()
    assert scored.current_evaluation is not None
    assert scored.current_evaluation.scores.filter(metric="average_precision.found_by_finder").exists()


def test_a_withdrawn_submission_is_not_queued_again_as_a_task_rescore_would_not(
    scored: Submission, slice_task: Task, organizer: User
) -> None:
    Submission.objects.filter(pk=scored.pk).update(is_withdrawn=True)

    queued = task_add_discovered_slice(submission=scored, actor=organizer, column="slice_2", name="found_by_finder")

    scored.refresh_from_db()
    assert queued == 0
    assert scored.status == Submission.Status.SCORED


def test_it_refuses_an_unknown_column_and_changes_nothing(
    scored: Submission, slice_task: Task, organizer: User
) -> None:
    before = (slice_task.data_dir / "test_slices.csv").read_bytes()

    with pytest.raises(InvalidInput):
        task_add_discovered_slice(submission=scored, actor=organizer, column="no_such_column", name="x")

    assert (slice_task.data_dir / "test_slices.csv").read_bytes() == before
    scored.refresh_from_db()
    assert scored.status == Submission.Status.SCORED
    assert not AuditEntry.objects.exists()


def test_adding_a_discovered_slice_writes_its_own_audit_entry(
    scored: Submission, slice_task: Task, organizer: User
) -> None:
    task_add_discovered_slice(
        submission=scored, actor=organizer, column="slice_2", name="found_by_finder", threshold=0.25
    )

    [entry] = AuditEntry.objects.all()
    assert (entry.action, entry.actor, entry.submission_id) == (AuditAction.TASK_SLICE, organizer, scored.pk)
    assert entry.summary == (
        f"Added slice 'found_by_finder' (column 'slice_2' of submission #{scored.pk}) to the ground truth of task "
        "slices; 1 submission(s) queued for rescoring."
    )
    assert entry.details == {
        "task": "slices",
        "slice": "found_by_finder",
        "column": "slice_2",
        "threshold": 0.25,
        "complement": False,
        "queued": 1,
    }


def test_only_an_organizer_can_add_a_discovered_slice(scored: Submission, slice_task: Task) -> None:
    before = (slice_task.data_dir / "test_slices.csv").read_bytes()

    with pytest.raises(Forbidden):
        task_add_discovered_slice(submission=scored, actor=scored.submitted_by, column="slice_2", name="mine")

    assert (slice_task.data_dir / "test_slices.csv").read_bytes() == before
    assert not AuditEntry.objects.exists()


def test_the_admin_action_asks_for_the_slice_then_applies_it(scored: Submission, slice_task: Task) -> None:
    staff = make_user("staffer", staff=True)
    client = Client()
    client.force_login(staff)
    url = reverse("admin:submissions_submission_changelist")
    form = client.post(url, {"action": "add_discovered_slice", "_selected_action": [scored.pk]})
    assert form.status_code == 200
    assert b"Add a discovered slice" in form.content

    done = client.post(
        url,
        {
            "action": "add_discovered_slice",
            "_selected_action": [scored.pk],
            "apply": "1",
            "column": "slice_2",
            "name": "from_admin",
            "threshold": "0.5",
        },
    )

    assert done.status_code == 302
    assert _header(slice_task)[-1] == "from_admin"


def test_only_staff_reach_the_action(scored: Submission, participant: User) -> None:
    client = Client()
    client.force_login(participant)
    response = client.post(reverse("admin:submissions_submission_changelist"), {"action": "add_discovered_slice"})
    assert response.status_code == 302  # to the admin login
