"""Reads of the audit log, with the access rule built in: a challenge's organizers (and staff) read its log;
to anyone else it is forbidden, and a challenge they may not see does not exist."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from apps.challenges.models import AuditEntry, Challenge
from apps.challenges.selectors import challenge_get, user_is_organizer
from apps.core.errors import Forbidden
from apps.core.users import AnyUser

AUDIT_PAGE_SIZE = 500


@dataclass(frozen=True)
class AuditLog:
    challenge: Challenge
    entries: list[dict[str, Any]]
    truncated: bool


def _entry_data(entry: AuditEntry) -> dict[str, Any]:
    return {
        "created_at": entry.created_at,
        "actor": entry.actor_name or "(platform)",
        "action": entry.action,
        "action_label": entry.get_action_display(),
        "summary": entry.summary,
        "submission_id": entry.submission_id,
        "details": json.dumps(entry.details, indent=2, sort_keys=True, cls=DjangoJSONEncoder) if entry.details else "",
    }


def challenge_audit_log(*, slug: str, user: AnyUser, limit: int = AUDIT_PAGE_SIZE) -> AuditLog:
    """The challenge's most recent audit entries (newest first, at most `limit`), as plain dicts. Raises
    `NotFound` for a challenge the user may not see and `Forbidden` for one they do not organize."""
    challenge = challenge_get(slug=slug, user=user)
    if not user_is_organizer(challenge=challenge, user=user):
        raise Forbidden("Only the challenge's organizers can read its audit log.")
    entries = list(AuditEntry.objects.filter(challenge=challenge).order_by("-created_at", "-pk")[: limit + 1])
    return AuditLog(
        challenge=challenge, entries=[_entry_data(e) for e in entries[:limit]], truncated=len(entries) > limit
    )
