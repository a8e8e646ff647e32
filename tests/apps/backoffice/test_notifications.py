"""E-mail about a submission's outcome: its team's members when it is scored, rejected or failed, the
challenge's organizers when it failed; never another team, never hidden data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core import mail
from pytest_django.fixtures import DjangoCaptureOnCommitCallbacks

from apps.accounts.models import TeamMembership
from apps.core.queues import NOTIFY_TASK
from apps.divisions.models import Division
from apps.jobs.pipeline import evaluate_and_rank
from apps.jobs.tasks import notify_submission
from apps.submissions.models import Score, Submission
from apps.submissions.sandbox.runner import SandboxUnavailable
from apps.submissions.services import verification
from apps.submissions.services.evaluation import EVALUATION, submission_claim
from apps.submissions.services.leases import Outcome
from tests.apps.backoffice.conftest import Board
from tests.apps.conftest import RecordingBroker
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
Status = Submission.Status


@pytest.fixture
def teammate(board: Board) -> User:
    """A second member of alice's team."""
    user = make_user("carol")
    TeamMembership.objects.create(team=board.alice.team, user=user)
    return user


def _recipients() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def test_a_scored_submission_is_told_to_each_member_of_its_team_only(board: Board, teammate: User) -> None:
    delivered = notify_submission(board.alice.pk)

    assert delivered == 2
    assert _recipients() == ["alice@example.org", "carol@example.org"]
    message = mail.outbox[0]
    assert f"Submission #{board.alice.pk}" in message.subject
    assert "Scored" in message.subject
    assert f"http://127.0.0.1:8000/submissions/{board.alice.pk}/" in message.body
    assert "0.7" in message.body


def test_the_scored_e_mail_holds_no_other_team_and_no_hidden_score(board: Board, teammate: User) -> None:
    evaluation = board.alice.current_evaluation
    assert evaluation is not None
    Score.objects.create(evaluation=evaluation, split=Score.Split.PRIVATE, metric="macro_f1", value=0.123456)

    notify_submission(board.alice.pk)

    for message in mail.outbox:
        assert "bob" not in message.body.lower()
        assert "0.123456" not in message.body
        assert message.to != ["bob@example.org"]


def test_a_rejected_submission_is_told_to_its_team_with_the_reason(board: Board) -> None:
    Submission.objects.filter(pk=board.bob.pk).update(status=Status.REJECTED, message="line 3: not a clip id")

    notify_submission(board.bob.pk)

    assert _recipients() == ["bob@example.org"]
    assert "was rejected" in mail.outbox[0].body
    assert "line 3: not a clip id" in mail.outbox[0].body


def test_a_failed_submission_is_told_to_its_team_and_to_the_organizers(board: Board) -> None:
    Submission.objects.filter(pk=board.bob.pk).update(status=Status.FAILED, message="The evaluator crashed.")

    notify_submission(board.bob.pk)

    assert _recipients() == ["bob@example.org", "orga@example.org"]
    organizer_mail = next(message for message in mail.outbox if message.to == ["orga@example.org"])
    assert f"/admin/submissions/submission/{board.bob.pk}/change/" in organizer_mail.body
    assert "The evaluator crashed." in organizer_mail.body


def test_a_submission_in_another_state_is_told_to_nobody(board: Board) -> None:
    Submission.objects.filter(pk=board.alice.pk).update(status=Status.QUEUED)

    assert notify_submission(board.alice.pk) == 0
    assert notify_submission(999_999) == 0
    assert mail.outbox == []


def test_a_member_without_an_address_is_skipped(board: Board) -> None:
    User.objects.filter(pk=board.alice.submitted_by_id).update(email="")

    assert notify_submission(board.alice.pk) == 0


def test_a_rejection_at_upload_sends_the_notification_once_committed(
    submit: Callable[..., Submission],
    registered: User,
    broker: RecordingBroker,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    bad_clip: dict[str, Any] = {"targets": {"fifty": ["fifty/not_a_clip.wav"]}, "nontargets": []}

    with django_capture_on_commit_callbacks(execute=True):
        submission = submit(registered, bad_clip)

    assert submission.status == Status.REJECTED
    assert broker.ids(NOTIFY_TASK) == [submission.pk]


def test_a_failed_evaluation_sends_the_notification_but_a_retry_does_not(
    board: Board, broker: RecordingBroker, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    for submission in (board.alice, board.bob):
        Submission.objects.filter(pk=submission.pk).update(status=Status.QUEUED)
        assert submission_claim(submission_id=submission.pk, worker="w") is not None

    with django_capture_on_commit_callbacks(execute=True):
        EVALUATION.attempt(submission_id=board.alice.pk, worker="w").retry(message="x")
        EVALUATION.attempt(submission_id=board.bob.pk, worker="w").end(status=Status.FAILED, message="x")

    assert broker.ids(NOTIFY_TASK) == [board.bob.pk]


def test_a_recorded_score_sends_the_notification(
    submit: Callable[..., Submission],
    registered: User,
    speech_selections: dict[str, dict[str, Any]],
    broker: RecordingBroker,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    submission = submit(registered, speech_selections["first-k"])

    with django_capture_on_commit_callbacks(execute=True):
        evaluate_and_rank(submission_id=submission.pk)

    assert broker.ids(NOTIFY_TASK) == [submission.pk]


def test_a_verification_that_fails_for_good_sends_the_notification(
    board: Board,
    closed_division: Division,
    monkeypatch: pytest.MonkeyPatch,
    broker: RecordingBroker,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    def no_sandbox(run: object) -> str:
        raise SandboxUnavailable("no bubblewrap here")

    monkeypatch.setattr(verification, "_verify", no_sandbox)
    Submission.objects.filter(pk=board.alice.pk).update(
        status=Status.VERIFYING, division=closed_division, attempts=settings.EVALUATION_MAX_ATTEMPTS - 1
    )

    with django_capture_on_commit_callbacks(execute=True):
        outcome = verification.submission_verify(submission_id=board.alice.pk, worker="w")

    assert (outcome, Submission.objects.get(pk=board.alice.pk).status) == (Outcome.FAILED, Status.FAILED)
    assert broker.ids(NOTIFY_TASK) == [board.alice.pk]
