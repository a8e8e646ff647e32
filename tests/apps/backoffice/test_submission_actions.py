"""The organizers' actions on submissions in the admin: each changes the submission, writes one audit entry and
leaves every leaderboard of the task as a rebuild from scratch computes it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import DjangoCaptureOnCommitCallbacks

from apps.backoffice.services.submissions import submission_disqualify, submission_move_to_open, submission_rescore
from apps.challenges.models import AuditAction
from apps.core.errors import Forbidden, InvalidInput
from apps.core.queues import EVALUATE_TASK
from apps.divisions.models import Division
from apps.leaderboards.services import leaderboard_rebuild
from apps.submissions.models import Score, Submission
from tests.apps.backoffice.conftest import Board, assert_boards_fresh, entries, rows, run_action, version
from tests.apps.conftest import RecordingBroker, make_scored_submission, team_of

pytestmark = pytest.mark.django_db
SUBMISSIONS = "submissions_submission"


def test_the_disqualify_action_asks_for_the_reason_first(staff: Client, board: Board) -> None:
    response = run_action(staff, SUBMISSIONS, "disqualify", [board.alice.pk])

    board.alice.refresh_from_db()
    assert response.status_code == 200
    assert 'name="reason"' in response.text
    assert not board.alice.is_disqualified
    assert entries() == []


def test_disqualifying_removes_the_submission_from_the_leaderboard_and_audits_it(
    staff: Client, board: Board, staff_user: User
) -> None:
    before = version(board.task, board.division)

    run_action(staff, SUBMISSIONS, "disqualify", [board.alice.pk], apply="1", reason="Used the test labels.")

    board.alice.refresh_from_db()
    assert (board.alice.is_disqualified, board.alice.disqualified_reason) == (True, "Used the test labels.")
    assert [row[2] for row in rows(board.task, board.division)] == [board.bob.pk]
    assert version(board.task, board.division) == before + 1
    [entry] = entries()
    assert (entry.action, entry.actor, entry.submission_id) == (
        AuditAction.SUBMISSION_DISQUALIFY,
        staff_user,
        board.alice.pk,
    )
    assert entry.details["reason"] == "Used the test labels."
    assert_boards_fresh(board.task)


def test_undoing_a_disqualification_ranks_the_submission_again(staff: Client, board: Board, staff_user: User) -> None:
    submission_disqualify(submission=board.alice, actor=staff_user, reason="Oops")

    run_action(staff, SUBMISSIONS, "requalify", [board.alice.pk])

    board.alice.refresh_from_db()
    assert (board.alice.is_disqualified, board.alice.disqualified_reason) == (False, "")
    assert [row[2] for row in rows(board.task, board.division)] == [board.alice.pk, board.bob.pk]
    assert [e.action for e in entries()] == [AuditAction.SUBMISSION_DISQUALIFY, AuditAction.SUBMISSION_REQUALIFY]
    assert_boards_fresh(board.task)


def test_disqualifying_twice_records_once(board: Board, staff_user: User) -> None:
    first = submission_disqualify(submission=board.alice, actor=staff_user, reason="Oops")
    second = submission_disqualify(submission=board.alice, actor=staff_user, reason="Oops")

    assert (first, second) == (True, False)
    assert len(entries()) == 1


def test_a_disqualification_needs_a_reason(board: Board, staff_user: User) -> None:
    with pytest.raises(InvalidInput, match="reason"):
        submission_disqualify(submission=board.alice, actor=staff_user, reason="  ")

    board.alice.refresh_from_db()
    assert not board.alice.is_disqualified
    assert entries() == []


def test_only_an_organizer_can_disqualify(board: Board, other_participant: User) -> None:
    with pytest.raises(Forbidden):
        submission_disqualify(submission=board.alice, actor=other_participant, reason="Mine is worse")

    board.alice.refresh_from_db()
    assert not board.alice.is_disqualified
    assert entries() == []


def test_marking_a_baseline_gives_it_its_own_row_and_audits_it(staff: Client, board: Board) -> None:
    # bob's second, better submission: bob's team is represented by it until the first becomes a baseline.
    better = make_scored_submission(task=board.task, division=board.division, user=board.bob.submitted_by, primary=0.9)
    Submission.objects.filter(pk=better.pk).update(is_selected_final=True)

    run_action(staff, SUBMISSIONS, "mark_baseline", [better.pk])

    better.refresh_from_db()
    assert (better.is_baseline, better.is_selected_final) == (True, False)
    assert [(row[2], row[4]) for row in rows(board.task, board.division)] == [
        (better.pk, True),
        (board.alice.pk, False),
        (board.bob.pk, False),
    ]
    [entry] = entries()
    assert (entry.action, entry.submission_id) == (AuditAction.SUBMISSION_BASELINE, better.pk)
    assert_boards_fresh(board.task)


def test_unmarking_a_baseline_ranks_it_with_its_team_again(staff: Client, board: Board) -> None:
    Submission.objects.filter(pk=board.alice.pk).update(is_baseline=True)

    run_action(staff, SUBMISSIONS, "unmark_baseline", [board.alice.pk])

    assert [(row[2], row[4]) for row in rows(board.task, board.division)] == [
        (board.alice.pk, False),
        (board.bob.pk, False),
    ]
    assert [e.action for e in entries()] == [AuditAction.SUBMISSION_UNBASELINE]
    assert_boards_fresh(board.task)


def test_moving_a_closed_submission_to_the_open_division_keeps_its_scores(
    staff: Client, board: Board, closed_division: Division, participant: User
) -> None:
    closed = make_scored_submission(task=board.task, division=closed_division, user=participant, primary=0.95)
    evaluation = closed.current_evaluation_id

    run_action(staff, SUBMISSIONS, "move_to_open", [closed.pk])

    closed.refresh_from_db()
    assert (closed.division, closed.current_evaluation_id) == (board.division, evaluation)
    assert rows(board.task, closed_division) == []
    assert [row[2] for row in rows(board.task, board.division)] == [closed.pk, board.bob.pk]
    [entry] = entries()
    assert (entry.action, entry.details["source"], entry.details["target"]) == (
        AuditAction.SUBMISSION_MOVE_OPEN,
        "closed",
        "open",
    )
    assert_boards_fresh(board.task)


def test_an_open_submission_cannot_be_moved_to_the_open_division(board: Board, staff_user: User) -> None:
    assert submission_move_to_open(submission=board.alice, actor=staff_user) is False
    assert entries() == []


def test_moving_a_closed_submission_needs_an_open_division_for_its_task(
    board: Board, closed_division: Division, participant: User, staff_user: User
) -> None:
    closed = make_scored_submission(task=board.task, division=closed_division, user=participant, primary=0.9)
    board.division.tasks.add(board.task.challenge.tasks.create(slug="other", title="o", evaluator_slug="x"))

    with pytest.raises(InvalidInput, match="No open division"):
        submission_move_to_open(submission=closed, actor=staff_user)

    assert entries() == []


def test_the_rescore_action_queues_the_submission_and_audits_it(
    staff: Client,
    board: Board,
    broker: RecordingBroker,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    before = version(board.task, board.division)

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(staff, SUBMISSIONS, "rescore", [board.alice.pk])

    board.alice.refresh_from_db()
    assert "Queued 1 submission(s) for rescoring" in response.text
    assert board.alice.status == Submission.Status.QUEUED
    assert broker.ids(EVALUATE_TASK) == [board.alice.pk]
    # The current score keeps its rank until the new one lands.
    assert [row[2] for row in rows(board.task, board.division)] == [board.alice.pk, board.bob.pk]
    assert version(board.task, board.division) == before + 1
    assert [(e.action, e.submission_id) for e in entries()] == [(AuditAction.SUBMISSION_RESCORE, board.alice.pk)]
    assert_boards_fresh(board.task)


def test_rescoring_a_submission_that_is_not_scored_records_nothing(staff: Client, board: Board) -> None:
    Submission.objects.filter(pk=board.alice.pk).update(status=Submission.Status.REJECTED)

    run_action(staff, SUBMISSIONS, "rescore", [board.alice.pk])

    assert entries() == []


def test_rescoring_a_submission_writes_its_own_audit_entry(board: Board, staff_user: User) -> None:
    assert submission_rescore(submission=board.alice, actor=staff_user) is True
    assert submission_rescore(submission=board.alice, actor=staff_user) is False  # queued already

    [entry] = entries()
    team = team_of(board.alice.submitted_by).name
    assert (entry.action, entry.actor, entry.submission_id) == (
        AuditAction.SUBMISSION_RESCORE,
        staff_user,
        board.alice.pk,
    )
    assert (
        entry.summary == f"Rescoring submission #{board.alice.pk} ({team}, {board.task.slug}, {board.division.slug})."
    )
    assert entry.details == {"task": board.task.slug, "team": team}


def test_only_an_organizer_can_rescore_a_submission(board: Board, other_participant: User) -> None:
    with pytest.raises(Forbidden):
        submission_rescore(submission=board.alice, actor=other_participant)

    board.alice.refresh_from_db()
    assert board.alice.status == Submission.Status.SCORED
    assert entries() == []


def test_the_concealed_board_is_rebuilt_with_the_public_one(
    staff: Client, board: Board, closed_division: Division, participant: User
) -> None:
    closed = make_scored_submission(task=board.task, division=closed_division, user=participant, primary=0.9)
    evaluation = closed.current_evaluation
    assert evaluation is not None
    Score.objects.create(evaluation=evaluation, split=Score.Split.CONCEALED, metric="macro_f1", value=0.4)
    type(board.task).objects.filter(pk=board.task.pk).update(concealed_config=board.task.config)
    board.task.refresh_from_db()
    leaderboard_rebuild(task=board.task, division=closed_division, split=Score.Split.CONCEALED)
    assert [row[2] for row in rows(board.task, closed_division, Score.Split.CONCEALED)] == [closed.pk]

    run_action(staff, SUBMISSIONS, "disqualify", [closed.pk], apply="1", reason="Human in the loop.")

    assert rows(board.task, closed_division, Score.Split.CONCEALED) == []
    assert_boards_fresh(board.task)


def test_the_team_reads_the_reason_of_its_disqualification_on_the_submission_page(
    client: Client, board: Board, staff_user: User, participant: User
) -> None:
    submission_disqualify(submission=board.alice, actor=staff_user, reason="Trained on the evaluation clips.")
    client.force_login(participant)

    response = client.get(f"/submissions/{board.alice.pk}/")

    assert response.status_code == 200
    assert "Disqualified by the organizers: Trained on the evaluation clips." in response.text


def test_the_submission_admin_shows_the_actions(staff: Client, board: Board) -> None:
    response = staff.get("/admin/submissions/submission/")

    for action in ("disqualify", "requalify", "mark_baseline", "move_to_open", "grant_award", "revoke_awards"):
        assert f'value="{action}"' in response.text
    assert team_of(board.alice.submitted_by).name in response.text
