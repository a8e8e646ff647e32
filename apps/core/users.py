"""The user types every layer uses (the platform uses Django's default user model)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest

from apps.core.errors import Forbidden

AnyUser = User | AnonymousUser


def signed_in_user(request: HttpRequest) -> User:
    """The request's user, for views behind `login_required` (raises `Forbidden` if somehow anonymous)."""
    if not isinstance(request.user, User):
        raise Forbidden("Log in first.")
    return request.user
