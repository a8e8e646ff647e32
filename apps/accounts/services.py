"""Writes for accounts and teams."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from apps.accounts.models import Team, TeamMembership


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
