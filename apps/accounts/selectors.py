"""Reads for accounts and teams."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.models import ApiToken, Team
from apps.core.users import AnyUser


def teams_of_user(*, user: AnyUser) -> QuerySet[Team]:
    if not user.is_authenticated:
        return Team.objects.none()
    return Team.objects.filter(memberships__user=user)


def api_tokens_of_user(*, user: AnyUser) -> QuerySet[ApiToken]:
    """The user's API tokens, newest first (active and revoked); none for an anonymous user."""
    if not user.is_authenticated:
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user)
