"""The one place where errors become HTTP responses: domain errors from services and selectors, and DRF's
own (authentication, validation, throttling). Every error body has `detail` (a sentence for the person)
and `code` (for programs); validation errors add `errors` (per field), quota errors `resets_at`."""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from apps.core.errors import DomainError, Forbidden, InvalidInput, NotFound
from apps.ratchets.services import AnswersTooFast
from apps.submissions.services.quotas import QuotaExceeded

_DOMAIN_STATUS: list[tuple[type[DomainError], int, str]] = [
    (QuotaExceeded, status.HTTP_429_TOO_MANY_REQUESTS, "quota_exceeded"),
    (AnswersTooFast, status.HTTP_429_TOO_MANY_REQUESTS, "too_fast"),
    (NotFound, status.HTTP_404_NOT_FOUND, "not_found"),
    (Forbidden, status.HTTP_403_FORBIDDEN, "forbidden"),
    (InvalidInput, status.HTTP_400_BAD_REQUEST, "invalid"),
]


def domain_error_response(exc: DomainError) -> Response:
    """The response for a domain error (`InvalidInput` and any other unlisted domain error answer 400)."""
    code, http_status = "invalid", int(status.HTTP_400_BAD_REQUEST)
    for kind, kind_status, kind_code in _DOMAIN_STATUS:
        if isinstance(exc, kind):
            code, http_status = kind_code, kind_status
            break
    body: dict[str, Any] = {"detail": exc.message, "code": code}
    headers: dict[str, str] = {}
    if isinstance(exc, QuotaExceeded):
        body["resets_at"] = exc.resets_at.isoformat() if exc.resets_at else None
        if exc.resets_at is not None:
            wait = (exc.resets_at - timezone.now()).total_seconds()
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return Response(body, status=http_status, headers=headers)


def _flatten(errors: Any, prefix: str = "") -> list[str]:
    if isinstance(errors, dict):
        return [line for key, value in errors.items() for line in _flatten(value, f"{prefix}{key}: ")]
    if isinstance(errors, list):
        return [line for value in errors for line in _flatten(value, prefix)]
    return [f"{prefix}{errors}"]


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER. Anything else (a bug) is left to Django: a 500 without details."""
    if isinstance(exc, DomainError):
        set_rollback()
        return domain_error_response(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = {"detail": "; ".join(_flatten(errors)), "code": "invalid", "errors": errors}
    else:
        codes = exc.get_codes()
        response.data = {"detail": str(exc.detail), "code": codes if isinstance(codes, str) else "error"}
    return response
