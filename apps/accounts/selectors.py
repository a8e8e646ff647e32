"""Reads for accounts and teams."""

from __future__ import annotations

from django.db.models import F, QuerySet
from django.utils import timezone

from apps.accounts.models import ApiToken, Team, TeamEvent, TeamInvite, TeamMembership
from apps.accounts.services import team_invite_hash
from apps.core.errors import InvalidInput, NotFound
from apps.core.users import AnyUser

TEAM_EVENTS_SHOWN = 200


def teams_of_user(*, user: AnyUser) -> QuerySet[Team]:
    if not user.is_authenticated:
        return Team.objects.none()
    return Team.objects.filter(memberships__user=user)


def teams_owned_by(*, user: AnyUser) -> QuerySet[Team]:
    """The teams this user may register for a challenge: those they own (their personal team first)."""
    if not user.is_authenticated:
        return Team.objects.none()
    owned = Team.objects.filter(memberships__user=user, memberships__role=TeamMembership.Role.OWNER)
    return owned.order_by(F("personal_owner").desc(nulls_last=True), "name")


def team_get(*, team_id: int, user: AnyUser) -> Team:
    """A team the user belongs to (staff see every team). `NotFound` otherwise: whether a team exists is not
    told to outsiders."""
    team = Team.objects.filter(pk=team_id).first()
    if team is None or not (getattr(user, "is_staff", False) or team_role(team=team, user=user)):
        raise NotFound("No such team.")
    return team


def team_role(*, team: Team, user: AnyUser) -> str | None:
    """The user's role in the team ("owner" or "member"), or None when they are not in it."""
    if not user.is_authenticated:
        return None
    return TeamMembership.objects.filter(team=team, user=user).values_list("role", flat=True).first()


def team_members(*, team: Team) -> QuerySet[TeamMembership]:
    return TeamMembership.objects.filter(team=team).select_related("user").order_by("joined_at", "pk")


def team_events(*, team: Team) -> QuerySet[TeamEvent]:
    """The team's membership history, newest first (the latest `TEAM_EVENTS_SHOWN`)."""
    return TeamEvent.objects.filter(team=team).select_related("user", "actor")[:TEAM_EVENTS_SHOWN]


def team_invites_open(*, team: Team, user: AnyUser) -> QuerySet[TeamInvite]:
    """The team's usable invitation links, for its owner only (nobody else learns they exist)."""
    if team_role(team=team, user=user) != TeamMembership.Role.OWNER:
        return TeamInvite.objects.none()
    return TeamInvite.objects.filter(team=team, revoked_at__isnull=True, expires_at__gt=timezone.now())


def team_invite_by_token(*, token: str) -> TeamInvite:
    """The invitation a link's token opens. Raises `NotFound` for an unknown token and `InvalidInput` (saying
    which) for a revoked or expired one."""
    invite = TeamInvite.objects.select_related("team").filter(token_hash=team_invite_hash(token)).first()
    if invite is None:
        raise NotFound("This invitation link is not valid; ask the team's owner for a new one.")
    if invite.revoked_at is not None:
        raise InvalidInput("This invitation link has been revoked; ask the team's owner for a new one.")
    if not invite.is_usable_at(timezone.now()):
        raise InvalidInput(
            f"This invitation link expired on {invite.expires_at:%Y-%m-%d %H:%M} UTC; ask the team's owner for a "
            "new one."
        )
    return invite


def api_tokens_of_user(*, user: AnyUser) -> QuerySet[ApiToken]:
    """The user's API tokens, newest first (active and revoked); none for an anonymous user."""
    if not user.is_authenticated:
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user)
