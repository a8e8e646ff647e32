"""OpenAPI details drf-spectacular cannot infer: the token scheme and every operation's error responses."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse

from apps.api.serializers import ErrorOut

_DESCRIPTIONS = {
    400: "Invalid input: `detail` says what to fix (validation messages as the evaluator wrote them).",
    401: "Not authenticated, or an invalid or revoked token.",
    403: "Authenticated, but not allowed (e.g. not registered for the challenge, or it has ended).",
    404: "No such object, or not visible to you (the two are indistinguishable on purpose).",
    413: "The upload is larger than the task accepts (`max_upload_bytes` per file); nothing was stored.",
    416: "The requested range starts past the end of the file.",
    429: "Throttled (`Retry-After` says when to retry), or a submission quota is used up (`resets_at`).",
}


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """The error responses of an operation. Any operation may answer 401 (a bad token is refused, never
    treated as anonymous) and 429 (throttling)."""
    documented = sorted({*statuses, 401, 429})
    return {code: OpenApiResponse(ErrorOut, description=_DESCRIPTIONS[code]) for code in documented}


class ApiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]  # untyped base hook
    target_class = "apps.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`; create a key on the account page (/accounts/tokens/).",
        }
