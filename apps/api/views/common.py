"""Lookups shared by the API views (the access rules are the selectors')."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request

from apps.challenges import selectors as challenge_selectors
from apps.challenges.models import Challenge, Task


def challenge_for(request: Request, slug: str) -> Challenge:
    return challenge_selectors.challenge_get(slug=slug, user=request.user)


def task_for(request: Request, slug: str, task_slug: str) -> Task:
    challenge = challenge_for(request, slug)
    return challenge_selectors.task_get(challenge=challenge, slug=task_slug, user=request.user)


def caller(request: Request) -> User:
    """The authenticated user of a view behind `IsAuthenticated`."""
    if not isinstance(request.user, User):
        raise NotAuthenticated()
    return request.user


@csrf_exempt  # it changes nothing, whatever the method: a JSON 404 rather than a CSRF page
def not_found(request: HttpRequest) -> JsonResponse:
    """The answer to an /api/ URL that names no operation."""
    return JsonResponse(
        {"detail": "No such API endpoint (every URL of the API ends with a slash).", "code": "not_found"}, status=404
    )
