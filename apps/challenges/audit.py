"""Writing the audit log, and the access rule every organizer action checks first. The services of every layer
(challenges and above) that change what participants see write their entry here, in their own transaction, so
that the admin, the API, the commands and the shell are all audited alike."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from apps.challenges.models import AuditEntry, Challenge
from apps.challenges.selectors import user_is_organizer
from apps.core.errors import Forbidden


def require_organizer(*, challenge: Challenge, actor: User) -> None:
    """Raise `Forbidden` unless the actor organizes the challenge or is staff."""
    if not user_is_organizer(challenge=challenge, user=actor):
        raise Forbidden(f"Only the organizers of {challenge.title} can do this.")


def audit_record(
    *,
    challenge: Challenge,
    actor: User | None,
    action: str,
    summary: str,
    submission_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the challenge's audit log and return it. Call it inside the transaction of the change
    it records, so that both commit or neither does. `details` must be JSON-serialisable (dates and decimals
    are encoded); the challenge's organizers read it on a web page, so never put secrets in it."""
    return AuditEntry.objects.create(
        challenge=challenge,
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "",
        action=action,
        summary=summary,
        submission_id=submission_id,
        details=details or {},
    )
