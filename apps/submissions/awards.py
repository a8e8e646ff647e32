"""Awards: distinctions the organizers grant to submissions. Writes (grant, revoke: each checks the organizer and
writes its own audit entry, so every interface is audited alike) and reads (per task, per team)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from apps.accounts.models import Team
from apps.challenges.models import AuditAction, Challenge, Task
from apps.core.errors import InvalidInput
from apps.submissions.audit import submission_audit_record, submission_label, submission_lock_for_organizer
from apps.submissions.models import Award, Submission


def award_grant(*, submission: Submission, actor: User, name: str, description: str = "") -> Award:
    """Grant the award `name` to the submission, with an audit entry, and return it. Raises `Forbidden` unless
    the actor organizes the challenge, `InvalidInput` for an empty name, or when the submission holds an award
    of that name already (a database constraint), so a double click grants once and records once."""
    with transaction.atomic():
        locked = submission_lock_for_organizer(submission=submission, actor=actor)
        award = _award_create(locked, name=name, description=description, granted_by=actor)
        submission_audit_record(
            submission=locked,
            actor=actor,
            action=AuditAction.AWARD_GRANT,
            summary=f"Granted the award {award.name!r} to {submission_label(locked)}.",
            details={"award": award.name, "description": award.description},
        )
    return award


def _award_create(submission: Submission, *, name: str, description: str, granted_by: User) -> Award:
    name = name.strip()
    if not name:
        raise InvalidInput("An award needs a name.")
    try:
        with transaction.atomic():
            return Award.objects.create(
                submission=submission, name=name, description=description.strip(), granted_by=granted_by
            )
    except IntegrityError:
        raise InvalidInput(f"Submission #{submission.pk} already holds the award {name!r}.") from None


def award_revoke(*, award: Award, actor: User) -> bool:
    """Revoke (delete) the award, with an audit entry. Raises `Forbidden` unless the actor organizes the
    challenge. Idempotent: returns False, recording nothing, when it was revoked already."""
    with transaction.atomic():
        # The submission's lock serialises two revocations of its award: one entry, not two.
        locked = submission_lock_for_organizer(submission=award.submission, actor=actor)
        if not Award.objects.filter(pk=award.pk).delete()[0]:
            return False
        submission_audit_record(
            submission=locked,
            actor=actor,
            action=AuditAction.AWARD_REVOKE,
            summary=f"Revoked the award {award.name!r} of {submission_label(locked)}.",
            details={"award": award.name},
        )
    return True


def _shown() -> QuerySet[Award]:
    # An award of a submission that was disqualified or withdrawn since stays stored (undoing the
    # disqualification shows it again) but is not shown.
    return Award.objects.filter(submission__is_disqualified=False, submission__is_withdrawn=False).select_related(
        "submission__team", "submission__division", "submission__task__challenge"
    )


def awards_of_task(task: Task) -> QuerySet[Award]:
    """The awards shown for the task: those of its submissions that are neither disqualified nor withdrawn,
    oldest first, with their submission, team and division. Awards are public once granted: they name a team
    and a submission, nothing hidden."""
    return _shown().filter(submission__task=task)


def awards_of_team(team: Team) -> QuerySet[Award]:
    """The awards shown for the team's submissions (every task), as `awards_of_task`."""
    return _shown().filter(submission__team=team)


def awards_of_challenge(challenge: Challenge) -> QuerySet[Award]:
    """The awards shown for every task of the challenge, as `awards_of_task`."""
    return _shown().filter(submission__task__challenge=challenge)
