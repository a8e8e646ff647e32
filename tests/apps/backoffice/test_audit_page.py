"""The audit log page of a challenge: its organizers (and staff) read it; nobody else does."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from apps.backoffice.services.submissions import submission_disqualify
from apps.challenges.models import Challenge
from tests.apps.backoffice.conftest import Board

pytestmark = pytest.mark.django_db


@pytest.fixture
def audited(board: Board, staff_user: User) -> Board:
    submission_disqualify(submission=board.alice, actor=staff_user, reason="Used the test labels.")
    return board


def _audit_url(challenge: Challenge) -> str:
    return reverse("backoffice:audit", args=[challenge.slug])


def test_an_organizer_reads_the_audit_log_of_their_challenge(client: Client, audited: Board, organizer: User) -> None:
    client.force_login(organizer)

    response = client.get(_audit_url(audited.task.challenge))

    assert response.status_code == 200
    assert f"Disqualified #{audited.alice.pk}" in response.text
    assert "Used the test labels." in response.text
    assert "<td>staff</td>" in response.text


def test_staff_read_every_challenge_s_audit_log(staff: Client, audited: Board) -> None:
    assert staff.get(_audit_url(audited.task.challenge)).status_code == 200


def test_a_participant_may_not_read_the_audit_log(client: Client, audited: Board, participant: User) -> None:
    client.force_login(participant)

    response = client.get(_audit_url(audited.task.challenge))

    assert response.status_code == 403
    assert "Used the test labels." not in response.text


def test_the_organizer_of_another_challenge_may_not_read_it(client: Client, audited: Board) -> None:
    other = User.objects.create_user("other-organizer", "o@example.org", "a-long-test-password-42")
    Challenge.objects.create(
        slug="other",
        title="Other",
        starts_at=audited.task.challenge.starts_at,
        ends_at=audited.task.challenge.ends_at,
    ).organizers.add(other)
    client.force_login(other)

    assert client.get(_audit_url(audited.task.challenge)).status_code == 403


def test_the_audit_log_of_a_draft_challenge_does_not_exist_for_others(
    client: Client, audited: Board, participant: User
) -> None:
    Challenge.objects.filter(pk=audited.task.challenge_id).update(visibility=Challenge.Visibility.DRAFT)
    client.force_login(participant)

    assert client.get(_audit_url(audited.task.challenge)).status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(client: Client, audited: Board) -> None:
    response = client.get(_audit_url(audited.task.challenge))

    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
