"""Writes for accounts and teams."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import ApiToken, Team, TeamEvent, TeamInvite, TeamMembership
from apps.core.errors import Forbidden, InvalidInput, NotFound

# Keys start with a fixed marker so that secret scanners (and people) recognise a leaked one.
API_TOKEN_MARKER = "dpt_"  # noqa: S105 - a public prefix, not a secret
API_TOKEN_MAX_ACTIVE = 20
# Recording each use would write on every API request; a minute's precision is enough for "last used".
_LAST_USED_PRECISION = dt.timedelta(minutes=1)
TEAM_NAME_MAX_LENGTH = 100
TEAM_INVITE_MARKER = "dpi_"
TEAM_INVITE_LIFETIME = dt.timedelta(days=7)
TEAM_INVITE_MAX_LIFETIME = dt.timedelta(days=90)
TEAM_INVITE_MAX_ACTIVE = 20


class AccountError(Exception):
    """A domain error with a message fit for the user."""


def _free_team_name(base: str) -> str:
    name, suffix = base, 1
    while Team.objects.filter(name__iexact=name).exists():
        suffix += 1
        name = f"{base}-{suffix}"
    return name


@transaction.atomic
def user_sign_up(*, username: str, email: str, password: str) -> User:
    """Create a user and their personal team of one. Raises `AccountError` if the username is taken."""
    if User.objects.filter(username__iexact=username).exists():
        raise AccountError(f"The username {username!r} is taken.")
    user = User.objects.create_user(username=username, email=email, password=password)
    team_ensure_personal(user=user)
    return user


def team_ensure_personal(*, user: User) -> Team:
    """Return the user's personal team, creating it on first use (users made by `createsuperuser` have none)."""
    team = Team.objects.filter(personal_owner=user).first()
    if team is not None:
        return team
    with transaction.atomic():
        team = Team.objects.create(name=_free_team_name(user.get_username()), personal_owner=user)
        TeamMembership.objects.create(team=team, user=user, role=TeamMembership.Role.OWNER)
        _log(team, TeamEvent.Action.CREATED, user=user, actor=user)
    return team


def _log(team: Team, action: str, *, user: User | None = None, actor: User | None = None) -> TeamEvent:
    return TeamEvent.objects.create(team=team, action=action, user=user, actor=actor)


def _is_owner(team: Team, user: User) -> bool:
    return TeamMembership.objects.filter(team=team, user=user, role=TeamMembership.Role.OWNER).exists()


def _lock(team: Team) -> Team:
    """The team's row, locked until the transaction ends: membership changes of one team are serialised."""
    return Team.objects.select_for_update().get(pk=team.pk)


def team_create(*, user: User, name: str) -> Team:
    """Create a named team owned by the user (its first member). Raises `InvalidInput` for a blank name or
    one already taken (names are unique, case-insensitively)."""
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("Name the team.")
    if len(name) > TEAM_NAME_MAX_LENGTH:
        raise InvalidInput(f"A team name has at most {TEAM_NAME_MAX_LENGTH} characters.")
    taken = InvalidInput(f"A team named {name!r} exists already; choose another name.")
    if Team.objects.filter(name__iexact=name).exists():
        raise taken
    try:
        with transaction.atomic():
            team = Team.objects.create(name=name)
            TeamMembership.objects.create(team=team, user=user, role=TeamMembership.Role.OWNER)
            _log(team, TeamEvent.Action.CREATED, user=user, actor=user)
    except IntegrityError as exc:  # the same name, created between the check and the insert
        raise taken from exc
    return team


def team_invite_hash(token: str) -> str:
    """The stored form of an invitation token (256 random bits: a plain SHA-256 is enough)."""
    return hashlib.sha256(token.encode()).hexdigest()


def team_invite_create(
    *, team: Team, user: User, lifetime: dt.timedelta = TEAM_INVITE_LIFETIME
) -> tuple[TeamInvite, str]:
    """Create an invitation link to the team; return it with its token, which is never available again.

    Only the team's owner may (`Forbidden`); a personal team takes no one else, and an owner has at most
    `TEAM_INVITE_MAX_ACTIVE` usable links at once (`InvalidInput`).
    """
    if not _is_owner(team, user):
        raise Forbidden("Only the team's owner can invite members.")
    if team.personal_owner_id is not None:
        raise InvalidInput("A personal team is a team of one: create a named team to compete with others.")
    if not dt.timedelta(minutes=5) <= lifetime <= TEAM_INVITE_MAX_LIFETIME:
        raise InvalidInput(f"An invitation lasts between 5 minutes and {TEAM_INVITE_MAX_LIFETIME.days} days.")
    now = timezone.now()
    active = TeamInvite.objects.filter(team=team, revoked_at__isnull=True, expires_at__gt=now)
    if active.count() >= TEAM_INVITE_MAX_ACTIVE:
        raise InvalidInput(f"The team already has {TEAM_INVITE_MAX_ACTIVE} open invitations; revoke one first.")
    token = TEAM_INVITE_MARKER + secrets.token_urlsafe(32)
    with transaction.atomic():
        invite = TeamInvite.objects.create(
            team=team,
            created_by=user,
            token_hash=team_invite_hash(token),
            prefix=token[: len(TEAM_INVITE_MARKER) + 6],
            expires_at=now + lifetime,
        )
        _log(team, TeamEvent.Action.INVITED, actor=user)
    return invite, token


def team_invite_revoke(*, team: Team, user: User, invite_id: int) -> TeamInvite:
    """Revoke an invitation link: it stops working at once. Owner only (`Forbidden`); idempotent; `NotFound`
    for a link of another team."""
    if not _is_owner(team, user):
        raise Forbidden("Only the team's owner can revoke invitations.")
    invite = TeamInvite.objects.filter(pk=invite_id, team=team).first()
    if invite is None:
        raise NotFound("No such invitation.")
    TeamInvite.objects.filter(pk=invite.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    invite.refresh_from_db()
    return invite


def team_member_add(*, team: Team, user: User, actor: User) -> TeamMembership:
    """Add a member and log it. A building block, not an operation: the caller holds the team's row lock and
    has checked the rules of every challenge the team is registered in (`apps.challenges.services.team_join`
    does both). Raises `InvalidInput` for a personal team or a user who is a member already."""
    if team.personal_owner_id is not None:
        raise InvalidInput("A personal team is a team of one.")
    if TeamMembership.objects.filter(team=team, user=user).exists():
        raise InvalidInput(f"You are already a member of team {team.name}.")
    membership = TeamMembership.objects.create(team=team, user=user, role=TeamMembership.Role.MEMBER)
    _log(team, TeamEvent.Action.JOINED, user=user, actor=actor)
    return membership


@transaction.atomic
def team_leave(*, team: Team, user: User) -> None:
    """Leave a team. The owner's role passes to the longest-standing other member. Raises `NotFound` for a
    team the user is not in, `InvalidInput` for a personal team or the last member (a team is never left
    empty: its submissions and ranks stay with it)."""
    team = _lock(team)
    membership = TeamMembership.objects.filter(team=team, user=user).first()
    if membership is None:
        raise NotFound("You are not a member of this team.")
    if team.personal_owner_id is not None:
        raise InvalidInput("You cannot leave your personal team.")
    others = TeamMembership.objects.filter(team=team).exclude(pk=membership.pk).order_by("joined_at", "pk")
    successor = others.first()
    if successor is None:
        raise InvalidInput("You are the team's last member: a team cannot be left empty.")
    if membership.role == TeamMembership.Role.OWNER:
        TeamMembership.objects.filter(pk=successor.pk).update(role=TeamMembership.Role.OWNER)
    membership.delete()
    _log(team, TeamEvent.Action.LEFT, user=user, actor=user)


@transaction.atomic
def team_remove_member(*, team: Team, user: User, member_id: int) -> None:
    """The owner (`user`) removes a member (`member_id`, a user id). Raises `Forbidden` for anyone but the
    owner, `NotFound` for someone not in the team, `InvalidInput` for the owner themselves (they leave)."""
    team = _lock(team)
    if not _is_owner(team, user):
        raise Forbidden("Only the team's owner can remove members.")
    if member_id == user.pk:
        raise InvalidInput("To leave your own team, use Leave.")
    membership = TeamMembership.objects.select_related("user").filter(team=team, user_id=member_id).first()
    if membership is None:
        raise NotFound("No such member.")
    membership.delete()
    _log(team, TeamEvent.Action.REMOVED, user=membership.user, actor=user)


def api_token_hash(key: str) -> str:
    """The stored form of a key: its SHA-256 (a key has 256 random bits, so no salt or stretching is needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create an API token for the user; return it with its key, which is never available again.

    Raises `InvalidInput` for a blank name or when the user already has `API_TOKEN_MAX_ACTIVE` active tokens.
    """
    name = name.strip()
    if not name:
        raise InvalidInput("Name the token (for example the machine it is for).")
    if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= API_TOKEN_MAX_ACTIVE:
        raise InvalidInput(f"You already have {API_TOKEN_MAX_ACTIVE} active tokens; revoke one first.")
    key = API_TOKEN_MARKER + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:100], prefix=key[: len(API_TOKEN_MARKER) + 6], key_hash=api_token_hash(key)
    )
    return token, key


def api_token_revoke(*, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's tokens: it stops authenticating at once. Idempotent (revoking twice keeps
    the first time). Raises `NotFound` for a token that is not the user's."""
    token = ApiToken.objects.filter(pk=token_id, user=user).first()
    if token is None:
        raise NotFound("No such token.")
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db()
    return token


def api_token_authenticate(*, key: str) -> User | None:
    """The active user owning this key, or None (unknown or revoked key, deactivated user).

    Records when the token was last used, at most once a minute (a conditional update, so concurrent
    requests do not contend for the row).
    """
    token = ApiToken.objects.select_related("user").filter(key_hash=api_token_hash(key)).first()
    if token is None or not token.is_active or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= _LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
