"""The demo's simulated teams: who is in them, and how each competes (how good its methods get, how many tasks
it enters, when it starts). Made through the accounts services as people make them: the owner creates the team
and invites the others, who join by the link. The demo participant owns the first team.

Simulated members have no e-mail address and no usable password: nobody logs in as them, and the platform has
nobody to e-mail about their submissions (the demo participant's team is e-mailed through its one address)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction

from apps.accounts.models import Team, TeamEvent, TeamInvite, TeamMembership
from apps.accounts.services import team_create, team_ensure_personal, team_invite_create
from apps.challenges.models import Challenge, Participation
from apps.challenges.services import participation_register, team_join


@dataclass(frozen=True)
class DemoTeam:
    name: str
    members: tuple[str, ...]
    """The simulated members' usernames (the owner first; the demo participant's team lists its other members)."""
    skill: float
    """The share of good choices the team's best work reaches (0 to 1)."""
    activity: float
    """The chance that it enters a task, and how often it submits there (0 to 1)."""
    start: float
    """When it starts competing, as a fraction of the challenge's time so far."""
    in_season: bool = True
    """Whether it took part in the previous season too."""


DEMO_TEAMS = (
    DemoTeam("Data Wranglers", ("lina", "omar"), skill=0.8, activity=1.0, start=0.05),
    DemoTeam("Label Noise", ("ines", "karl", "mei"), skill=0.95, activity=0.9, start=0.1),
    DemoTeam("Gradient Descent Club", ("tomas",), skill=0.6, activity=0.6, start=0.3, in_season=False),
    DemoTeam("Active Learners", ("priya", "jonas"), skill=0.85, activity=0.8, start=0.0),
    DemoTeam("Coreset", ("sven",), skill=0.5, activity=0.5, start=0.45, in_season=False),
    DemoTeam("The Curators", ("amara", "felix", "rosa"), skill=0.9, activity=0.7, start=0.2),
    DemoTeam("Bias Busters", ("kenji",), skill=0.4, activity=0.7, start=0.15),
    DemoTeam("Sample Efficient", ("noor", "luca"), skill=0.7, activity=0.9, start=0.55, in_season=False),
    DemoTeam("Outlier Hunters", ("dana",), skill=0.65, activity=0.8, start=0.25),
    DemoTeam("Bits and Labels", ("yusuf", "elena"), skill=0.55, activity=0.6, start=0.35),
)
"""The first is the demo participant's team, with it as owner."""


@dataclass(frozen=True)
class Competitor:
    """A demo team as created: its spec, its row and its members (the owner first)."""

    spec: DemoTeam
    team: Team
    members: list[User]


def _member(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        # No password: nobody logs in as a simulated member (and hashing one costs a quarter of a second).
        user = User.objects.create_user(username=username, email="", password=None)
        team_ensure_personal(user=user)
    return user


@transaction.atomic
def _team(spec: DemoTeam, owner: User, others: tuple[str, ...]) -> Competitor:
    """The team (created by `owner`, the `others` joining by an invitation link each, unless it exists)."""
    members = [owner, *(_member(username) for username in others)]
    team = Team.objects.filter(name=spec.name).first()
    if team is None:
        team = team_create(user=owner, name=spec.name)
        for member in members[1:]:
            _, token = team_invite_create(team=team, user=owner)
            team_join(token=token, user=member)
    return Competitor(spec, team, members)


def demo_teams_ensure(*, participant: User) -> list[Competitor]:
    """Every team of `DEMO_TEAMS` (the demo participant owning the first), created unless it exists."""
    first, *others = DEMO_TEAMS
    return [_team(first, participant, first.members)] + [
        _team(spec, _member(spec.members[0]), spec.members[1:]) for spec in others
    ]


def demo_teams_register(*, challenge: Challenge, competitors: list[Competitor]) -> list[Participation]:
    """Register each team for the challenge, by its owner, with the rules accepted."""
    return [
        participation_register(challenge=challenge, user=c.members[0], accept_rules=True, team=c.team)
        for c in competitors
    ]


def demo_team_backdate(*, competitor: Competitor, formed_at: dt.datetime) -> None:
    """Date the team's creation, its members' joining and its history (events, links) to `formed_at` (the
    demo makes them now; the story has them form before the seasons)."""
    team = competitor.team
    Team.objects.filter(pk=team.pk).update(created_at=formed_at)
    TeamMembership.objects.filter(team=team).update(joined_at=formed_at)
    TeamEvent.objects.filter(team=team).update(created_at=formed_at)
    TeamInvite.objects.filter(team=team).update(created_at=formed_at, expires_at=formed_at + dt.timedelta(days=7))


def demo_participation_backdate(*, participation: Participation, registered_at: dt.datetime) -> None:
    """Date a registration (with its acceptance of the rules) to `registered_at`."""
    Participation.objects.filter(pk=participation.pk).update(created_at=registered_at, accepted_rules_at=registered_at)
