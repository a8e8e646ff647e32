"""Receiving a submission: access, division and size rules, synchronous validation, storage, quotas."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from pytest_django.fixtures import DjangoCaptureOnCommitCallbacks, Settings

from apps.challenges.models import Challenge, Task
from apps.challenges.services import participation_register
from apps.core.errors import Forbidden, InvalidInput
from apps.core.queues import EVALUATE_QUEUE, EVALUATE_TASK, NOTIFY_TASK, VALIDATE_QUEUE, VALIDATE_TASK
from apps.divisions.models import Division
from apps.submissions.models import Submission
from apps.submissions.services.intake import SubmissionInput, submission_create
from apps.submissions.services.quotas import QuotaExceeded, quota_status
from apps.submissions.services.validation import submission_validate
from evaluators.selection_speech.evaluator import SelectionSpeechEvaluator
from tests.apps.conftest import RecordingBroker, SentTask, private_files, team_of, upload

pytestmark = pytest.mark.django_db
Submit = Callable[..., Submission]
Selections = dict[str, dict[str, Any]]
BAD_CLIP = {"targets": {"fifty": ["fifty/not_a_clip.wav"]}, "nontargets": []}
BAD_CLIP_MESSAGE = 'targets.fifty[0]: "fifty/not_a_clip.wav" is not in the allowed training set of "fifty"'


def _input(content: bytes | str, **kwargs: Any) -> SubmissionInput:
    return SubmissionInput(artifact=upload(content), artifact_name="selection.json", method_description="m", **kwargs)


def test_it_queues_a_valid_selection_after_validating_it_synchronously(
    submit: Submit, registered: User, speech_selections: Selections
) -> None:
    submission = submit(registered, speech_selections["first-k"])

    assert submission.status == Submission.Status.QUEUED
    assert submission.queued_at is not None
    assert submission.message == ""


def test_it_sends_a_queued_submission_to_the_evaluators_once_the_insert_commits(
    submit: Submit,
    registered: User,
    speech_selections: Selections,
    broker: RecordingBroker,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        submission = submit(registered, speech_selections["first-k"])

    assert broker.sent == [SentTask(EVALUATE_TASK, EVALUATE_QUEUE, submission.pk, 0)]


def test_validating_again_leaves_a_queued_submission_as_it_is(
    submit: Submit,
    registered: User,
    speech_selections: Selections,
    broker: RecordingBroker,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    submission = submit(registered, speech_selections["first-k"])

    with django_capture_on_commit_callbacks(execute=True):
        again = submission_validate(submission_id=submission.pk)

    assert (again.status, again.queued_at) == (Submission.Status.QUEUED, submission.queued_at)
    assert broker.sent == []


def test_a_large_upload_is_left_for_a_validation_worker(
    submit: Submit,
    registered: User,
    speech_selections: Selections,
    settings: Settings,
    broker: RecordingBroker,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    settings.SUBMISSION_SYNC_VALIDATION_MAX_BYTES = 10

    with django_capture_on_commit_callbacks(execute=True):
        submission = submit(registered, speech_selections["first-k"])

    assert submission.status == Submission.Status.RECEIVED
    assert broker.sent == [SentTask(VALIDATE_TASK, VALIDATE_QUEUE, submission.pk, 0)]


def test_it_rejects_an_invalid_selection_with_the_evaluators_message(submit: Submit, registered: User) -> None:
    submission = submit(registered, BAD_CLIP)

    assert submission.status == Submission.Status.REJECTED
    assert submission.message == BAD_CLIP_MESSAGE
    assert submission.finished_at is not None


def test_it_sends_nothing_to_the_evaluators_for_a_rejected_selection(
    submit: Submit,
    registered: User,
    broker: RecordingBroker,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        submit(registered, BAD_CLIP)

    assert [message.name for message in broker.sent] == [NOTIFY_TASK]  # the team is told; nothing to evaluate


def test_it_names_the_uploaded_file_in_a_rejection_message(submit: Submit, registered: User) -> None:
    # Storage renames an upload whose name is taken (`selection_<random>.json`); the participant never saw it.
    first = submit(registered, "{not json")
    second = submit(registered, "{not json")

    assert [first.message.split(": ")[0], second.message.split(": ")[0]] == ["selection.json", "selection.json"]


def test_a_rejected_selection_does_not_use_quota_by_default(
    submit: Submit, registered: User, speech_task: Task, speech_selections: Selections
) -> None:
    Task.objects.filter(pk=speech_task.pk).update(quota_per_day=1)
    submit(registered, BAD_CLIP, task=Task.objects.get(pk=speech_task.pk))

    accepted = submit(registered, speech_selections["first-k"], task=Task.objects.get(pk=speech_task.pk))

    assert accepted.status == Submission.Status.QUEUED
    assert quota_status(task=speech_task, team=team_of(registered)).used_total == 1


def test_a_rejected_selection_uses_quota_when_the_task_says_so(
    submit: Submit, registered: User, speech_task: Task, speech_selections: Selections
) -> None:
    Task.objects.filter(pk=speech_task.pk).update(quota_per_day=1, quota_counts_rejected=True)
    task = Task.objects.get(pk=speech_task.pk)
    submit(registered, BAD_CLIP, task=task)

    with pytest.raises(QuotaExceeded):
        submit(registered, speech_selections["first-k"], task=task)


def test_it_forbids_a_user_who_has_not_registered(
    submit: Submit, participant: User, speech_selections: Selections
) -> None:
    with pytest.raises(Forbidden, match="Register for this challenge"):
        submit(participant, speech_selections["first-k"])

    assert not Submission.objects.exists()


def test_it_forbids_a_participation_awaiting_approval(
    submit: Submit, challenge: Challenge, participant: User, speech_selections: Selections
) -> None:
    Challenge.objects.filter(pk=challenge.pk).update(registration=Challenge.Registration.APPROVAL)
    challenge.refresh_from_db()
    participation_register(challenge=challenge, user=participant, accept_rules=True)

    with pytest.raises(Forbidden, match="awaiting the organizers' approval"):
        submit(participant, speech_selections["first-k"])

    assert not Submission.objects.exists()


def test_it_requires_a_code_archive_in_the_closed_division(
    submit: Submit, registered: User, closed_division: Division, speech_selections: Selections
) -> None:
    with pytest.raises(InvalidInput) as error:
        submit(registered, speech_selections["first-k"], division=closed_division)

    assert error.value.message.startswith("The Closed division requires the code")
    assert not Submission.objects.exists()


def test_it_sends_a_closed_division_submission_with_code_to_verification(
    speech_task: Task, closed_division: Division, registered: User, speech_selections: Selections
) -> None:
    data = _input(json.dumps(speech_selections["first-k"]), code_archive=upload(b"PK\x05\x06" + b"\0" * 18))

    submission = submission_create(task=speech_task, division=closed_division, user=registered, data=data)

    assert submission.status == Submission.Status.VERIFYING
    assert submission.code_archive_sha256 == hashlib.sha256(b"PK\x05\x06" + b"\0" * 18).hexdigest()


def test_it_rejects_a_division_that_does_not_accept_the_task(
    submit: Submit, registered: User, challenge: Challenge, open_division: Division, speech_selections: Selections
) -> None:
    other = Task.objects.create(challenge=challenge, slug="other", title="Other", evaluator_slug="selection-speech")
    open_division.tasks.add(other)

    with pytest.raises(InvalidInput, match="The Open division does not accept submissions to this task"):
        submit(registered, speech_selections["first-k"])


def test_it_rejects_a_division_of_another_challenge(
    submit: Submit, registered: User, challenge: Challenge, speech_selections: Selections
) -> None:
    elsewhere = Challenge.objects.create(
        slug="elsewhere", title="Elsewhere", starts_at=challenge.starts_at, ends_at=challenge.ends_at
    )
    foreign = Division.objects.create(challenge=elsewhere, slug="open", kind="open", name="Open")

    with pytest.raises(InvalidInput, match="belongs to another challenge"):
        submit(registered, speech_selections["first-k"], division=foreign)


def test_it_refuses_an_upload_over_the_tasks_size_limit_and_stores_nothing(
    speech_task: Task, open_division: Division, registered: User, speech_selections: Selections
) -> None:
    content = json.dumps(speech_selections["first-k"])
    Task.objects.filter(pk=speech_task.pk).update(max_upload_bytes=len(content) - 1)
    task = Task.objects.get(pk=speech_task.pk)
    before = private_files()

    with pytest.raises(InvalidInput, match="The submission file is larger than"):
        submission_create(task=task, division=open_division, user=registered, data=_input(content))

    assert not Submission.objects.exists()
    assert private_files() == before


def test_it_states_the_real_size_limit_when_an_upload_is_too_large(
    speech_task: Task, open_division: Division, registered: User
) -> None:
    Task.objects.filter(pk=speech_task.pk).update(max_upload_bytes=100)
    task = Task.objects.get(pk=speech_task.pk)

    with pytest.raises(InvalidInput) as error:
        submission_create(task=task, division=open_division, user=registered, data=_input("x" * 101))

    # A limit under 1 MB must not be shown as "0 MB".
    assert "100 B" in error.value.message or "100 bytes" in error.value.message, error.value.message


def test_it_refuses_an_empty_file(speech_task: Task, open_division: Division, registered: User) -> None:
    before = private_files()

    with pytest.raises(InvalidInput, match="The submission file is empty"):
        submission_create(task=speech_task, division=open_division, user=registered, data=_input(b""))

    assert not Submission.objects.exists()
    assert private_files() == before


@pytest.mark.parametrize(
    ("starts_in_days", "ends_in_days", "phase"),
    [(1, 30, "upcoming"), (-30, -1, "closed")],
)
def test_it_forbids_submissions_outside_the_challenges_dates(
    submit: Submit,
    registered: User,
    challenge: Challenge,
    speech_selections: Selections,
    starts_in_days: int,
    ends_in_days: int,
    phase: str,
) -> None:
    now = timezone.now()
    Challenge.objects.filter(pk=challenge.pk).update(
        starts_at=now + dt.timedelta(days=starts_in_days), ends_at=now + dt.timedelta(days=ends_in_days)
    )
    challenge.refresh_from_db()

    with pytest.raises(Forbidden, match=f"This challenge is {phase}: it accepts no submissions now"):
        submit(registered, speech_selections["first-k"], task=Task.objects.get(slug="speech-en-25"))

    assert not Submission.objects.exists()


def test_it_lets_an_organizer_add_baselines_beyond_the_quota(
    submit: Submit, organizer: User, speech_task: Task, speech_selections: Selections
) -> None:
    Task.objects.filter(pk=speech_task.pk).update(quota_per_day=1, quota_total=1)
    task = Task.objects.get(pk=speech_task.pk)

    baselines = [submit(organizer, selection, task=task, as_baseline=True) for selection in speech_selections.values()]

    assert [b.status for b in baselines] == [Submission.Status.QUEUED] * 3
    assert all(b.is_baseline for b in baselines)
    assert quota_status(task=task, team=team_of(organizer)).used_total == 0


def test_it_forbids_baselines_from_a_participant(
    submit: Submit, registered: User, speech_selections: Selections
) -> None:
    with pytest.raises(Forbidden, match="Only organizers can add baseline submissions"):
        submit(registered, speech_selections["first-k"], as_baseline=True)

    assert not Submission.objects.exists()


def test_it_records_the_artifacts_sha256_size_and_name(
    speech_task: Task, open_division: Division, registered: User, speech_selections: Selections
) -> None:
    content = json.dumps(speech_selections["random"]).encode()

    submission = submission_create(task=speech_task, division=open_division, user=registered, data=_input(content))

    assert submission.artifact_sha256 == hashlib.sha256(content).hexdigest()
    assert submission.artifact_size == len(content)
    assert submission.artifact_name == "selection.json"
    with submission.artifact.open("rb") as stored:
        assert stored.read() == content


def test_it_submits_for_the_users_team_and_records_who_submitted(
    submit: Submit, registered: User, open_division: Division, speech_selections: Selections
) -> None:
    submission = submit(registered, speech_selections["first-k"])

    assert submission.team == team_of(registered)
    assert submission.submitted_by == registered
    assert submission.division == open_division


def test_it_fails_a_submission_whose_validator_crashes_instead_of_leaving_it_validating(
    submit: Submit, registered: User, speech_selections: Selections, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(self: SelectionSpeechEvaluator, task: object, path: object) -> None:
        raise ValueError("a bug in the evaluator")

    monkeypatch.setattr(SelectionSpeechEvaluator, "validate", crash)

    submission = submit(registered, speech_selections["first-k"])

    assert submission.status == Submission.Status.FAILED
    assert submission.message
