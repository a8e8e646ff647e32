"""What every organizer action on one submission starts and ends with, whichever layer it lives in (awards and
re-verification here, rescoring, disqualification, baselines and moves in the back office): the access check and
the submission re-read under a row lock, then one audit entry naming its task and team."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from apps.challenges.audit import audit_record, require_organizer
from apps.challenges.models import AuditEntry
from apps.submissions.models import Submission


def submission_lock_for_organizer(*, submission: Submission, actor: User) -> Submission:
    """The submission re-read under a row lock (with its task, challenge, division and team), after checking
    that the actor organizes its challenge (`Forbidden` otherwise). Call it inside the transaction of the
    change: two organizers acting at once on the same submission are serialised, and each sees the other's
    committed change."""
    require_organizer(challenge=submission.task.challenge, actor=actor)
    return (
        Submission.objects.select_for_update()
        .select_related("task__challenge", "division", "team")
        .get(pk=submission.pk)
    )


def submission_audit_record(
    *, submission: Submission, actor: User, action: str, summary: str, details: dict[str, Any] | None = None
) -> AuditEntry:
    """Append the audit entry of an action on the submission (`audit_record`), its details led by the task's
    slug and the team's name. Call it inside the transaction of the change."""
    return audit_record(
        challenge=submission.task.challenge,
        actor=actor,
        action=action,
        submission_id=submission.pk,
        summary=summary,
        details={"task": submission.task.slug, "team": submission.team.name, **(details or {})},
    )


def submission_label(submission: Submission) -> str:
    """How an audit summary names a submission: its id, team, task and division."""
    return f"#{submission.pk} ({submission.team.name}, {submission.task.slug}, {submission.division.slug})"
