"""Registration: address allow and block lists, team registration, team size, one team per person and
challenge, organizer approval (services and pages), and the challenge settings' validators."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Team
from apps.accounts.services import team_create, team_invite_create
from apps.challenges.models import AuditAction, AuditEntry, Challenge, Participation, parse_email_domains
from apps.challenges.services import (
    email_domain_refusal,
    participation_approve,
    participation_register,
    participation_reject,
    team_join,
)
from apps.core.errors import Forbidden, InvalidInput
from tests.apps.conftest import team_of
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _set(challenge: Challenge, **fields: object) -> Challenge:
    Challenge.objects.filter(pk=challenge.pk).update(**fields)
    return Challenge.objects.get(pk=challenge.pk)


def _user(username: str, email: str) -> User:
    user = make_user(username)
    User.objects.filter(pk=user.pk).update(email=email)
    user.refresh_from_db()
    return user


def _team_with(owner: User, *others: User, name: str = "Crew") -> Team:
    team = team_create(user=owner, name=name)
    token = team_invite_create(team=team, user=owner)[1]
    for other in others:
        team_join(token=token, user=other)
    return team


# --- Address lists ------------------------------------------------------------------------------------------
def test_domain_lists_accept_lines_and_commas_in_any_case() -> None:
    assert parse_email_domains("Example.EDU, @other.org\n .third.net,,\n\nexample.edu") == [
        "example.edu",
        "other.org",
        "third.net",
    ]


@pytest.mark.parametrize(
    ("email", "refusal"),
    [
        ("ada@example.edu", None),
        ("ada@cs.example.edu", None),
        ("ADA@CS.Example.EDU", None),
        ("ada@notexample.edu", "Registration is limited to addresses at: example.edu, uni.org."),
        ("ada@example.edu.evil.com", "Registration is limited to addresses at: example.edu, uni.org."),
        ("", "Registration is limited to addresses at: example.edu, uni.org."),
    ],
)
def test_an_allow_list_admits_its_domains_and_their_subdomains_only(
    challenge: Challenge, email: str, refusal: str | None
) -> None:
    challenge = _set(challenge, allowed_email_domains="example.edu\nUni.org")

    assert email_domain_refusal(challenge=challenge, email=email) == refusal


def test_a_block_list_refuses_its_domains_and_their_subdomains(challenge: Challenge) -> None:
    challenge = _set(challenge, blocked_email_domains="example.com", allowed_email_domains="example.com, b.org")

    assert email_domain_refusal(challenge=challenge, email="x@Mail.Example.com") == (
        "Addresses at example.com cannot register."
    )
    assert email_domain_refusal(challenge=challenge, email="x@b.org") is None


def test_registration_is_refused_outside_the_allow_list(challenge: Challenge) -> None:
    challenge = _set(challenge, allowed_email_domains="example.edu")
    outsider = _user("outsider", "o@example.com")

    with pytest.raises(InvalidInput) as error:
        participation_register(challenge=challenge, user=outsider, accept_rules=True)

    assert error.value.message == "Registration is limited to addresses at: example.edu."
    assert not Participation.objects.exists()


def test_registration_is_refused_from_a_blocked_domain(challenge: Challenge) -> None:
    challenge = _set(challenge, blocked_email_domains="example.com")

    with pytest.raises(InvalidInput, match=r"^Addresses at example.com cannot register.$"):
        participation_register(challenge=challenge, user=_user("blocked", "b@lab.example.com"), accept_rules=True)


def test_a_team_is_refused_when_one_of_its_members_is_refused(challenge: Challenge) -> None:
    owner = _user("owner", "owner@example.edu")
    team = _team_with(owner, _user("guest", "guest@example.com"))
    challenge = _set(challenge, allowed_email_domains="example.edu")

    with pytest.raises(InvalidInput) as error:
        participation_register(challenge=challenge, user=owner, accept_rules=True, team=team)

    assert error.value.message == "guest: Registration is limited to addresses at: example.edu."


# --- Teams ------------------------------------------------------------------------------------------------
def test_the_owner_registers_a_named_team(challenge: Challenge, participant: User, other_participant: User) -> None:
    team = _team_with(participant, other_participant)

    participation = participation_register(challenge=challenge, user=participant, accept_rules=True, team=team)

    assert participation.team == team
    assert participation.registered_by == participant
    assert participation.status == Participation.Status.APPROVED


def test_only_the_owner_registers_a_team(challenge: Challenge, participant: User, other_participant: User) -> None:
    team = _team_with(participant, other_participant)

    with pytest.raises(Forbidden, match="Only the team's owner"):
        participation_register(challenge=challenge, user=other_participant, accept_rules=True, team=team)


def test_a_team_larger_than_the_challenge_allows_is_refused(
    challenge: Challenge, participant: User, other_participant: User
) -> None:
    team = _team_with(participant, other_participant, make_user("carol"))
    challenge = _set(challenge, max_team_size=2)

    with pytest.raises(InvalidInput, match=r"^Team Crew has 3 members; this challenge allows at most 2\.$"):
        participation_register(challenge=challenge, user=participant, accept_rules=True, team=team)


def test_a_team_is_refused_when_a_member_already_competes_through_another_team(
    challenge: Challenge, participant: User, other_participant: User
) -> None:
    participation_register(challenge=challenge, user=other_participant, accept_rules=True)
    team = _team_with(participant, other_participant)

    with pytest.raises(InvalidInput) as error:
        participation_register(challenge=challenge, user=participant, accept_rules=True, team=team)

    assert error.value.message == (
        "bob already competes in this challenge as team bob: nobody may be in two teams of one challenge."
    )


def test_registering_without_a_team_returns_the_team_one_already_competes_with(
    challenge: Challenge, participant: User, other_participant: User
) -> None:
    team = _team_with(participant, other_participant)
    registered = participation_register(challenge=challenge, user=participant, accept_rules=True, team=team)

    again = participation_register(challenge=challenge, user=other_participant, accept_rules=True)

    assert again == registered
    assert not Participation.objects.filter(team=team_of(other_participant)).exists()


def test_registering_a_team_twice_returns_the_first_registration(challenge: Challenge, participant: User) -> None:
    team = team_create(user=participant, name="Solo plus")
    first = participation_register(challenge=challenge, user=participant, accept_rules=True, team=team)

    assert participation_register(challenge=challenge, user=participant, accept_rules=True, team=team) == first


# --- Organizer approval -------------------------------------------------------------------------------------
@pytest.fixture
def pending(challenge: Challenge, participant: User) -> Participation:
    _set(challenge, registration=Challenge.Registration.APPROVAL)
    participation = participation_register(
        challenge=Challenge.objects.get(pk=challenge.pk), user=participant, accept_rules=True
    )
    assert participation.status == Participation.Status.PENDING
    return participation


def test_an_organizer_approves_a_pending_registration(pending: Participation, organizer: User) -> None:
    approved = participation_approve(participation=pending, user=organizer)

    assert approved.status == Participation.Status.APPROVED
    assert approved.decided_by == organizer
    assert approved.decided_at is not None


def test_an_organizer_rejects_a_registration(pending: Participation, organizer: User) -> None:
    assert participation_reject(participation=pending, user=organizer).status == Participation.Status.REJECTED


def test_each_decision_on_a_registration_is_audited_once(pending: Participation, organizer: User) -> None:
    participation_approve(participation=pending, user=organizer)
    participation_approve(participation=pending, user=organizer)
    participation_reject(participation=pending, user=organizer)

    entries = list(AuditEntry.objects.filter(challenge=pending.challenge).order_by("pk"))
    assert [(e.action, e.actor, e.details["from"], e.details["to"]) for e in entries] == [
        (AuditAction.PARTICIPATION_APPROVE, organizer, "pending", "approved"),
        (AuditAction.PARTICIPATION_REJECT, organizer, "approved", "rejected"),
    ]
    assert pending.team.name in entries[0].summary


def test_a_refused_decision_is_not_audited(pending: Participation, participant: User) -> None:
    with pytest.raises(Forbidden):
        participation_approve(participation=pending, user=participant)

    assert not AuditEntry.objects.exists()


def test_staff_decide_on_registrations_through_the_audited_admin_actions(
    client: Client, pending: Participation
) -> None:
    staff = make_user("staff", staff=True)
    client.force_login(staff)
    changelist = reverse("admin:challenges_participation_changelist")

    client.post(changelist, {"action": "approve", "_selected_action": [pending.pk]}, follow=True)

    pending.refresh_from_db()
    assert (pending.status, pending.decided_by) == (Participation.Status.APPROVED, staff)
    [entry] = AuditEntry.objects.all()
    assert (entry.action, entry.actor) == (AuditAction.PARTICIPATION_APPROVE, staff)


def test_the_participation_admin_cannot_edit_a_status_in_place(client: Client, pending: Participation) -> None:
    client.force_login(make_user("staff", staff=True))
    changelist = reverse("admin:challenges_participation_changelist")
    edit = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(pending.pk),
        "form-0-status": Participation.Status.APPROVED,
        "_save": "Save",
    }

    client.post(changelist, edit, follow=True)
    client.post(reverse("admin:challenges_participation_change", args=[pending.pk]), {"status": "approved"})

    pending.refresh_from_db()
    assert pending.status == Participation.Status.PENDING
    assert not AuditEntry.objects.exists()


def test_only_organizers_decide_on_registrations(pending: Participation, participant: User) -> None:
    with pytest.raises(Forbidden):
        participation_approve(participation=pending, user=participant)
    with pytest.raises(Forbidden):
        participation_reject(participation=pending, user=participant)
    pending.refresh_from_db()
    assert pending.status == Participation.Status.PENDING


def test_the_registrations_page_lists_pending_teams_for_organizers(
    client: Client, pending: Participation, organizer: User
) -> None:
    client.force_login(organizer)

    response = client.get(reverse("challenges:registrations", args=[pending.challenge.slug]))

    assert response.status_code == 200
    assert "alice@example.org" in response.text
    assert reverse("challenges:registration_approve", args=[pending.challenge.slug, pending.pk]) in response.text
    assert "1 awaiting approval" in client.get(reverse("challenges:detail", args=[pending.challenge.slug])).text


def test_the_registrations_page_is_forbidden_to_participants(
    client: Client, pending: Participation, participant: User
) -> None:
    client.force_login(participant)

    assert client.get(reverse("challenges:registrations", args=[pending.challenge.slug])).status_code == 403
    url = reverse("challenges:registration_approve", args=[pending.challenge.slug, pending.pk])
    assert client.post(url).status_code == 403
    pending.refresh_from_db()
    assert pending.status == Participation.Status.PENDING


def test_approving_from_the_page_takes_a_post_with_a_csrf_token(pending: Participation, organizer: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(organizer)
    url = reverse("challenges:registration_approve", args=[pending.challenge.slug, pending.pk])

    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403
    page = client.get(reverse("challenges:registrations", args=[pending.challenge.slug]))
    token = page.text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    response = client.post(url, {"csrfmiddlewaretoken": token})

    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == Participation.Status.APPROVED


def test_a_decision_on_another_challenges_registration_is_not_found(
    client: Client, pending: Participation, organizer: User
) -> None:
    other = Challenge.objects.create(
        slug="other", title="Other", starts_at=pending.challenge.starts_at, ends_at=pending.challenge.ends_at
    )
    other.organizers.add(organizer)
    client.force_login(organizer)

    response = client.post(reverse("challenges:registration_reject", args=[other.slug, pending.pk]))

    assert response.status_code == 404


# --- The registration form ---------------------------------------------------------------------------------
def test_the_registration_form_offers_the_teams_one_owns_and_registers_the_chosen_one(
    client: Client, challenge: Challenge, participant: User
) -> None:
    team = team_create(user=participant, name="Named")
    client.force_login(participant)
    page = client.get(reverse("challenges:detail", args=[challenge.slug]))
    assert f'<option value="{team.pk}">Named</option>' in page.text

    response = client.post(
        reverse("challenges:register", args=[challenge.slug]), {"team": team.pk, "accept_rules": "on"}
    )

    assert response.status_code == 302
    assert Participation.objects.get(challenge=challenge).team == team


def test_the_registration_form_shows_why_a_registration_is_refused(client: Client, challenge: Challenge) -> None:
    _set(challenge, blocked_email_domains="example.org")
    client.force_login(make_user("eve"))

    response = client.post(reverse("challenges:register", args=[challenge.slug]), {"accept_rules": "on"}, follow=True)

    assert "Addresses at example.org cannot register." in response.text
    assert not Participation.objects.exists()


def test_the_registration_form_refuses_a_team_one_does_not_own(
    client: Client, challenge: Challenge, participant: User, other_participant: User
) -> None:
    team = team_create(user=other_participant, name="Not yours")
    client.force_login(participant)

    response = client.post(
        reverse("challenges:register", args=[challenge.slug]), {"team": team.pk, "accept_rules": "on"}, follow=True
    )

    assert "Choose one of the teams you own." in response.text
    assert not Participation.objects.exists()


# --- Settings' validators ---------------------------------------------------------------------------------
def test_the_challenge_settings_are_validated(challenge: Challenge) -> None:
    challenge.allowed_email_domains = "example.edu, edu, domain!"
    challenge.time_zone = "Mars/Olympus_Mons"
    challenge.max_team_size = 0

    with pytest.raises(ValidationError) as error:
        challenge.full_clean()

    assert set(error.value.message_dict) == {"allowed_email_domains", "time_zone", "max_team_size"}
    assert error.value.message_dict["allowed_email_domains"] == ["Not a domain name: domain!"]


def test_a_valid_time_zone_and_domain_list_pass(challenge: Challenge) -> None:
    challenge.allowed_email_domains = "example.edu\ncs.uni-x.org"
    challenge.time_zone = "Europe/Paris"
    challenge.max_team_size = 4

    challenge.full_clean()

    assert challenge.zone.key == "Europe/Paris"
