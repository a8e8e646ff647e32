"""Awards: granted and revoked by organizers (from the submission admin or any other caller of the services, each
writing its own audit entry), read per task and per team."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from apps.backoffice.services.submissions import submission_disqualify
from apps.challenges.models import AuditAction
from apps.core.errors import Forbidden, InvalidInput
from apps.submissions.awards import award_grant, award_revoke, awards_of_task, awards_of_team
from apps.submissions.models import Award
from tests.apps.backoffice.conftest import Board, entries, run_action
from tests.apps.conftest import team_of

pytestmark = pytest.mark.django_db
SUBMISSIONS = "submissions_submission"


def test_the_grant_action_asks_for_the_award(staff: Client, board: Board) -> None:
    response = run_action(staff, SUBMISSIONS, "grant_award", [board.alice.pk])

    assert response.status_code == 200
    assert 'name="name"' in response.text
    assert not Award.objects.exists()


def test_granting_an_award_from_the_admin_is_audited(staff: Client, board: Board, staff_user: User) -> None:
    run_action(
        staff,
        SUBMISSIONS,
        "grant_award",
        [board.alice.pk],
        apply="1",
        name="Best in open",
        description="The highest macro F1.",
    )

    award = Award.objects.get()
    assert (award.submission, award.name, award.description, award.granted_by) == (
        board.alice,
        "Best in open",
        "The highest macro F1.",
        staff_user,
    )
    [entry] = entries()
    assert (entry.action, entry.submission_id, entry.details["award"]) == (
        AuditAction.AWARD_GRANT,
        board.alice.pk,
        "Best in open",
    )


def test_the_same_award_is_granted_once(staff: Client, board: Board) -> None:
    for _ in range(2):
        response = run_action(staff, SUBMISSIONS, "grant_award", [board.alice.pk], apply="1", name="Best in open")

    assert Award.objects.count() == 1
    assert len(entries()) == 1
    assert "already holds the award" in response.text


def test_revoking_an_award_from_the_admin_is_audited(staff: Client, board: Board, staff_user: User) -> None:
    award = award_grant(submission=board.alice, actor=staff_user, name="Best in open")
    kept = award_grant(submission=board.alice, actor=staff_user, name="Most reproducible")

    page = run_action(staff, SUBMISSIONS, "revoke_awards", [board.alice.pk])
    run_action(staff, SUBMISSIONS, "revoke_awards", [board.alice.pk], apply="1", awards=[award.pk])

    assert "Most reproducible" in page.text
    assert list(Award.objects.all()) == [kept]
    assert [e.action for e in entries()] == [AuditAction.AWARD_GRANT, AuditAction.AWARD_GRANT, AuditAction.AWARD_REVOKE]
    assert entries()[-1].details["award"] == "Best in open"


def test_awards_are_read_per_task_and_per_team(board: Board, staff_user: User) -> None:
    first = award_grant(submission=board.alice, actor=staff_user, name="Best in open")
    second = award_grant(submission=board.bob, actor=staff_user, name="Runner-up")

    assert list(awards_of_task(board.task)) == [first, second]
    assert list(awards_of_team(team_of(board.bob.submitted_by))) == [second]


def test_a_disqualified_submission_s_award_is_not_shown(board: Board, staff_user: User) -> None:
    award_grant(submission=board.alice, actor=staff_user, name="Best in open")

    submission_disqualify(submission=board.alice, actor=staff_user, reason="Used the test labels.")

    assert list(awards_of_task(board.task)) == []
    assert Award.objects.count() == 1


def test_an_award_needs_a_name(board: Board, staff_user: User) -> None:
    with pytest.raises(InvalidInput, match="name"):
        award_grant(submission=board.alice, actor=staff_user, name=" ")


def test_revoking_twice_is_harmless_and_recorded_once(board: Board, staff_user: User) -> None:
    award = award_grant(submission=board.alice, actor=staff_user, name="Best in open")

    assert award_revoke(award=award, actor=staff_user) is True
    assert award_revoke(award=award, actor=staff_user) is False

    assert not Award.objects.exists()
    assert [e.action for e in entries()] == [AuditAction.AWARD_GRANT, AuditAction.AWARD_REVOKE]


def test_granting_an_award_writes_its_own_audit_entry(board: Board, staff_user: User) -> None:
    award = award_grant(submission=board.alice, actor=staff_user, name=" Best in open ", description=" Top F1. ")

    [entry] = entries()
    team = team_of(board.alice.submitted_by).name
    assert (award.name, award.description, award.granted_by) == ("Best in open", "Top F1.", staff_user)
    assert (entry.action, entry.actor, entry.submission_id) == (AuditAction.AWARD_GRANT, staff_user, board.alice.pk)
    assert entry.summary == (
        f"Granted the award 'Best in open' to #{board.alice.pk} ({team}, {board.task.slug}, {board.division.slug})."
    )
    assert entry.details == {
        "task": board.task.slug,
        "team": team,
        "award": "Best in open",
        "description": "Top F1.",
    }


def test_revoking_an_award_writes_its_own_audit_entry(board: Board, staff_user: User) -> None:
    award = award_grant(submission=board.alice, actor=staff_user, name="Best in open")

    award_revoke(award=award, actor=staff_user)

    entry = entries()[-1]
    team = team_of(board.alice.submitted_by).name
    assert (entry.action, entry.actor, entry.submission_id) == (AuditAction.AWARD_REVOKE, staff_user, board.alice.pk)
    assert entry.summary == (
        f"Revoked the award 'Best in open' of #{board.alice.pk} ({team}, {board.task.slug}, {board.division.slug})."
    )
    assert entry.details == {"task": board.task.slug, "team": team, "award": "Best in open"}


def test_only_an_organizer_can_grant_or_revoke_an_award(
    board: Board, staff_user: User, other_participant: User
) -> None:
    with pytest.raises(Forbidden):
        award_grant(submission=board.alice, actor=other_participant, name="Mine")
    award = award_grant(submission=board.alice, actor=staff_user, name="Best in open")
    with pytest.raises(Forbidden):
        award_revoke(award=award, actor=other_participant)

    assert list(Award.objects.all()) == [award]
    assert [e.action for e in entries()] == [AuditAction.AWARD_GRANT]


def test_a_refused_grant_records_nothing(board: Board, staff_user: User) -> None:
    award_grant(submission=board.alice, actor=staff_user, name="Best in open")

    with pytest.raises(InvalidInput, match="already holds"):
        award_grant(submission=board.alice, actor=staff_user, name="Best in open")

    assert Award.objects.count() == 1
    assert [e.action for e in entries()] == [AuditAction.AWARD_GRANT]
