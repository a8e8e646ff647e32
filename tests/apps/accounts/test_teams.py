"""Teams: creation, invitation links, joining under the rules of the team's challenges, leaving, removal, the
event log, and the team pages."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Team, TeamEvent, TeamInvite, TeamMembership
from apps.accounts.services import (
    team_create,
    team_invite_create,
    team_invite_hash,
    team_invite_revoke,
    team_leave,
    team_remove_member,
)
from apps.challenges.models import Challenge
from apps.challenges.services import participation_register, team_join
from apps.core.errors import Forbidden, InvalidInput, NotFound
from tests.apps.conftest import team_of
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _actions(team: Team) -> list[tuple[str, str | None, str | None]]:
    """The team's events, oldest first, as (action, member, actor)."""
    events = TeamEvent.objects.filter(team=team).order_by("created_at", "pk").select_related("user", "actor")
    return [(e.action, e.user.username if e.user else None, e.actor.username if e.actor else None) for e in events]


def _members(team: Team) -> dict[str, str]:
    return dict(TeamMembership.objects.filter(team=team).values_list("user__username", "role"))


@pytest.fixture
def owner(participant: User) -> User:
    return participant


@pytest.fixture
def team(owner: User) -> Team:
    return team_create(user=owner, name="Data Wranglers")


@pytest.fixture
def link(team: Team, owner: User) -> str:
    return team_invite_create(team=team, user=owner)[1]


def test_creating_a_team_makes_its_creator_the_owner_and_logs_it(owner: User) -> None:
    team = team_create(user=owner, name="  Data   Wranglers ")

    assert team.name == "Data Wranglers"
    assert team.personal_owner is None
    assert _members(team) == {"alice": "owner"}
    assert _actions(team) == [("created", "alice", "alice")]


def test_team_names_are_unique_whatever_their_case(team: Team, other_participant: User) -> None:
    with pytest.raises(InvalidInput, match="A team named 'data wranglers' exists already"):
        team_create(user=other_participant, name="data wranglers")


def test_an_invitation_link_stores_only_the_hash_of_its_token(team: Team, owner: User) -> None:
    invite, token = team_invite_create(team=team, user=owner)

    stored = TeamInvite.objects.get(pk=invite.pk)
    assert token.startswith("dpi_") and len(token) > 40
    assert stored.token_hash == team_invite_hash(token) != token
    assert token not in {stored.token_hash, stored.prefix}
    assert abs(stored.expires_at - stored.created_at - dt.timedelta(days=7)) < dt.timedelta(seconds=5)
    assert _actions(team)[-1] == ("invited", None, "alice")


def test_only_the_owner_may_invite(team: Team, link: str, other_participant: User) -> None:
    team_join(token=link, user=other_participant)

    with pytest.raises(Forbidden):
        team_invite_create(team=team, user=other_participant)


def test_a_personal_team_takes_no_invitations(owner: User) -> None:
    with pytest.raises(InvalidInput, match="team of one"):
        team_invite_create(team=team_of(owner), user=owner)


def test_joining_by_link_adds_a_member_and_logs_it(team: Team, link: str, other_participant: User) -> None:
    joined = team_join(token=link, user=other_participant)

    assert joined == team
    assert _members(team) == {"alice": "owner", "bob": "member"}
    assert _actions(team)[-1] == ("joined", "bob", "bob")


def test_joining_twice_is_refused(team: Team, link: str, other_participant: User) -> None:
    team_join(token=link, user=other_participant)

    with pytest.raises(InvalidInput, match="already a member"):
        team_join(token=link, user=other_participant)


def test_an_unknown_link_is_not_found(team: Team, other_participant: User) -> None:
    with pytest.raises(NotFound):
        team_join(token="dpi_not-a-real-token", user=other_participant)


def test_an_expired_link_no_longer_works(team: Team, link: str, other_participant: User) -> None:
    TeamInvite.objects.filter(team=team).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    with pytest.raises(InvalidInput, match="expired"):
        team_join(token=link, user=other_participant)
    assert "bob" not in _members(team)


def test_a_revoked_link_no_longer_works(team: Team, owner: User, other_participant: User) -> None:
    invite, token = team_invite_create(team=team, user=owner)
    team_invite_revoke(team=team, user=owner, invite_id=invite.pk)

    with pytest.raises(InvalidInput, match="revoked"):
        team_join(token=token, user=other_participant)


def test_only_the_owner_may_revoke_a_link(team: Team, owner: User, link: str, other_participant: User) -> None:
    team_join(token=link, user=other_participant)
    invite = TeamInvite.objects.get(team=team)

    with pytest.raises(Forbidden):
        team_invite_revoke(team=team, user=other_participant, invite_id=invite.pk)


def test_joining_a_team_at_its_challenges_maximum_size_is_refused(
    team: Team, owner: User, link: str, challenge: Challenge, other_participant: User
) -> None:
    Challenge.objects.filter(pk=challenge.pk).update(max_team_size=2)
    participation_register(challenge=challenge, user=owner, accept_rules=True, team=team)
    team_join(token=link, user=other_participant)

    with pytest.raises(InvalidInput, match=r"Team Data Wranglers is full: Speech challenge allows at most 2"):
        team_join(token=link, user=make_user("carol"))
    assert len(_members(team)) == 2


def test_a_challenge_that_has_ended_no_longer_limits_the_team(
    team: Team, owner: User, link: str, challenge: Challenge, other_participant: User
) -> None:
    participation_register(challenge=challenge, user=owner, accept_rules=True, team=team)
    now = timezone.now()
    Challenge.objects.filter(pk=challenge.pk).update(
        max_team_size=1, starts_at=now - dt.timedelta(days=9), ends_at=now - dt.timedelta(days=1)
    )

    team_join(token=link, user=other_participant)

    assert "bob" in _members(team)


def test_nobody_joins_a_team_of_a_challenge_they_already_compete_in(
    team: Team, owner: User, link: str, challenge: Challenge, other_participant: User
) -> None:
    participation_register(challenge=challenge, user=owner, accept_rules=True, team=team)
    participation_register(challenge=challenge, user=other_participant, accept_rules=True)

    with pytest.raises(InvalidInput) as error:
        team_join(token=link, user=other_participant)

    assert error.value.message == (
        "You already compete in Speech challenge as team bob, and team Data Wranglers is registered there too: "
        "nobody may be in two teams of one challenge."
    )
    assert "bob" not in _members(team)


def test_joining_follows_the_address_rules_of_the_teams_challenges(
    team: Team, owner: User, link: str, challenge: Challenge, other_participant: User
) -> None:
    participation_register(challenge=challenge, user=owner, accept_rules=True, team=team)
    Challenge.objects.filter(pk=challenge.pk).update(blocked_email_domains="example.org")

    with pytest.raises(InvalidInput, match=r"Addresses at example\.org cannot register"):
        team_join(token=link, user=other_participant)


def test_a_member_leaves_and_it_is_logged(team: Team, link: str, other_participant: User) -> None:
    team_join(token=link, user=other_participant)

    team_leave(team=team, user=other_participant)

    assert _members(team) == {"alice": "owner"}
    assert _actions(team)[-1] == ("left", "bob", "bob")


def test_when_the_owner_leaves_the_longest_standing_member_becomes_owner(
    team: Team, owner: User, link: str, other_participant: User
) -> None:
    team_join(token=link, user=other_participant)
    team_join(token=link, user=make_user("carol"))

    team_leave(team=team, user=owner)

    assert _members(team) == {"bob": "owner", "carol": "member"}


def test_the_last_member_cannot_leave(team: Team, owner: User) -> None:
    with pytest.raises(InvalidInput, match="last member"):
        team_leave(team=team, user=owner)


def test_nobody_leaves_their_personal_team(owner: User) -> None:
    with pytest.raises(InvalidInput, match="personal team"):
        team_leave(team=team_of(owner), user=owner)


def test_the_owner_removes_a_member_and_it_is_logged(
    team: Team, owner: User, link: str, other_participant: User
) -> None:
    team_join(token=link, user=other_participant)

    team_remove_member(team=team, user=owner, member_id=other_participant.pk)

    assert _members(team) == {"alice": "owner"}
    assert _actions(team)[-1] == ("removed", "bob", "alice")


def test_a_member_may_not_remove_another(team: Team, owner: User, link: str, other_participant: User) -> None:
    team_join(token=link, user=other_participant)
    carol = make_user("carol")
    team_join(token=link, user=carol)

    with pytest.raises(Forbidden):
        team_remove_member(team=team, user=other_participant, member_id=carol.pk)
    assert "carol" in _members(team)


@pytest.mark.django_db(transaction=True)
def test_parallel_joins_never_exceed_the_maximum_team_size(challenge: Challenge, participant: User) -> None:
    team = team_create(user=participant, name="Racers")
    participation_register(challenge=challenge, user=participant, accept_rules=True, team=team)
    Challenge.objects.filter(pk=challenge.pk).update(max_team_size=3)
    token = team_invite_create(team=team, user=participant)[1]
    joiners = [make_user(f"joiner{i}") for i in range(8)]
    start = threading.Barrier(len(joiners))
    outcomes: list[str] = []
    lock = threading.Lock()

    def join(user: User) -> None:
        try:
            start.wait()
            try:
                team_join(token=token, user=user)
                outcome = "joined"
            except InvalidInput as exc:
                outcome = "full" if "is full" in exc.message else exc.message
            except Exception as exc:  # reported by the assertion below, not lost in the thread
                outcome = repr(exc)
            with lock:
                outcomes.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=join, args=(user,)) for user in joiners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["full"] * 6 + ["joined"] * 2
    assert TeamMembership.objects.filter(team=team).count() == 3


# --- Pages -------------------------------------------------------------------------------------------------
def test_my_teams_page_lists_the_teams_and_creates_one(client: Client, owner: User) -> None:
    client.force_login(owner)

    response = client.post(reverse("accounts:teams"), {"name": "Labelers"})

    team = Team.objects.get(name="Labelers")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:team", args=[team.pk])
    listing = client.get(reverse("accounts:teams"))
    assert "Labelers" in listing.text and "alice" in listing.text
    assert 'href="/accounts/teams/"' in listing.text  # the nav link


def test_the_owner_creates_an_invitation_link_shown_once(client: Client, team: Team, owner: User) -> None:
    client.force_login(owner)

    response = client.post(reverse("accounts:team_invite", args=[team.pk]), {"days": "1"})

    token = response.text.split("/teams/join/")[1].split("/")[0]
    invite = TeamInvite.objects.get(token_hash=team_invite_hash(token))
    assert response["Cache-Control"] == "no-store"
    assert abs(invite.expires_at - invite.created_at - dt.timedelta(days=1)) < dt.timedelta(seconds=5)
    assert token not in client.get(reverse("accounts:team", args=[team.pk])).text


def test_the_join_page_asks_before_joining_and_joins_on_post(
    client: Client, team: Team, link: str, other_participant: User
) -> None:
    client.force_login(other_participant)
    url = reverse("challenges:team_join", args=[link])

    page = client.get(url)
    assert page.status_code == 200 and "Join Data Wranglers" in page.text
    assert "bob" not in _members(team)

    response = client.post(url)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:team", args=[team.pk])
    assert "bob" in _members(team)


def test_the_join_page_says_why_a_link_does_not_work(
    client: Client, team: Team, link: str, other_participant: User
) -> None:
    TeamInvite.objects.filter(team=team).update(revoked_at=timezone.now())
    client.force_login(other_participant)

    response = client.post(reverse("challenges:team_join", args=[link]))

    assert response.status_code == 400
    assert "has been revoked" in response.text


def test_the_join_page_needs_a_signed_in_user(client: Client, link: str) -> None:
    response = client.get(reverse("challenges:team_join", args=[link]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_the_team_page_shows_members_and_history_to_members_only(
    client: Client, team: Team, link: str, other_participant: User
) -> None:
    team_join(token=link, user=other_participant)
    client.force_login(other_participant)

    page = client.get(reverse("accounts:team", args=[team.pk]))

    assert page.status_code == 200
    assert "bob joined" in page.text and "alice created the team" in page.text
    assert "Create an invitation link" not in page.text  # owners only
    client.force_login(make_user("mallory"))
    assert client.get(reverse("accounts:team", args=[team.pk])).status_code == 404


def test_the_owner_removes_a_member_from_the_team_page(
    client: Client, team: Team, owner: User, link: str, other_participant: User
) -> None:
    team_join(token=link, user=other_participant)
    client.force_login(owner)

    response = client.post(reverse("accounts:team_remove", args=[team.pk, other_participant.pk]))

    assert response.status_code == 302
    assert "bob" not in _members(team)
    assert "bob was removed by alice" in client.get(reverse("accounts:team", args=[team.pk])).text


def test_a_member_leaves_from_the_team_page(client: Client, team: Team, link: str, other_participant: User) -> None:
    team_join(token=link, user=other_participant)
    client.force_login(other_participant)

    response = client.post(reverse("accounts:team_leave", args=[team.pk]))

    assert response["Location"] == reverse("accounts:teams")
    assert "bob" not in _members(team)


def test_team_actions_need_a_post_with_a_csrf_token(team: Team, owner: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)

    assert client.get(reverse("accounts:team_invite", args=[team.pk])).status_code == 405
    assert client.post(reverse("accounts:team_invite", args=[team.pk]), {"days": "7"}).status_code == 403
    assert not TeamInvite.objects.exists()
