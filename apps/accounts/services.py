"""Writes for accounts and teams."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import ApiToken, Team, TeamMembership
from apps.core.errors import InvalidInput, NotFound

# Keys start with a fixed marker so that secret scanners (and people) recognise a leaked one.
API_TOKEN_MARKER = "dpt_"  # noqa: S105 - a public prefix, not a secret
API_TOKEN_MAX_ACTIVE = 20
# Recording each use would write on every API request; a minute's precision is enough for "last used".
_LAST_USED_PRECISION = dt.timedelta(minutes=1)


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
    team = Team.objects.create(name=_free_team_name(user.get_username()), personal_owner=user)
    TeamMembership.objects.create(team=team, user=user, role=TeamMembership.Role.OWNER)
    return team


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
