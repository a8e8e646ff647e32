"""Organizer actions on one submission: rescoring, disqualification, the baseline flag, moving it to the open
division, awards. Each checks that the actor organizes the challenge, changes the submission under a row lock,
writes one audit entry and rebuilds the leaderboards it affects (every board of the task), all in one
transaction. Those that can find nothing to change return False and write nothing: running them twice is
harmless."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from apps.backoffice.services.ranking import task_leaderboards_rebuild
from apps.challenges.audit import audit_record, require_organizer
from apps.challenges.models import AuditAction
from apps.core.errors import InvalidInput
from apps.divisions.models import Division
from apps.divisions.selectors import divisions_of_task
from apps.submissions.awards import award_grant, award_revoke
from apps.submissions.models import Award, Submission
from apps.submissions.services.admin_actions import submission_rescore
from apps.submissions.services.verification import submission_reverify

Status = Submission.Status


def _locked(submission: Submission, actor: User) -> Submission:
    """The submission re-read under a row lock, after the access check (call inside a transaction)."""
    require_organizer(challenge=submission.task.challenge, actor=actor)
    return (
        Submission.objects.select_for_update()
        .select_related("task__challenge", "division", "team")
        .get(pk=submission.pk)
    )


def _audit(submission: Submission, actor: User, action: str, summary: str, **details: object) -> None:
    audit_record(
        challenge=submission.task.challenge,
        actor=actor,
        action=action,
        submission_id=submission.pk,
        summary=summary,
        details={"task": submission.task.slug, "team": submission.team.name, **details},
    )


def _label(submission: Submission) -> str:
    return f"#{submission.pk} ({submission.team.name}, {submission.task.slug}, {submission.division.slug})"


def submission_rescore_audited(*, submission: Submission, actor: User) -> bool:
    """Queue a scored or failed submission for a new evaluation (`submission_rescore`); its current score keeps
    its rank until the new one lands. Returns False when it is in no state to be rescored."""
    with transaction.atomic():
        locked = _locked(submission, actor)
        if not submission_rescore(submission=locked):
            return False
        _audit(locked, actor, AuditAction.SUBMISSION_RESCORE, f"Rescoring submission {_label(locked)}.")
        task_leaderboards_rebuild(task=locked.task)
    return True


def submission_reverify_audited(*, submission: Submission, actor: User) -> None:
    """Rerun a closed-division submission's verification (`submission_reverify`); raises what it raises."""
    with transaction.atomic():
        locked = _locked(submission, actor)
        submission_reverify(submission=locked)
        _audit(locked, actor, AuditAction.SUBMISSION_REVERIFY, f"Rerunning the verification of {_label(locked)}.")


def submission_disqualify(*, submission: Submission, actor: User, reason: str) -> bool:
    """Disqualify the submission: it leaves every leaderboard, and its team sees `reason` on its page. Raises
    `InvalidInput` without a reason. Returns False when it is disqualified already (its reason unchanged)."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Give the reason for the disqualification: the team will read it.")
    with transaction.atomic():
        locked = _locked(submission, actor)
        if locked.is_disqualified:
            return False
        Submission.objects.filter(pk=locked.pk).update(is_disqualified=True, disqualified_reason=reason)
        _audit(
            locked, actor, AuditAction.SUBMISSION_DISQUALIFY, f"Disqualified {_label(locked)}: {reason}", reason=reason
        )
        task_leaderboards_rebuild(task=locked.task, field_changed=True)
    return True


def submission_requalify(*, submission: Submission, actor: User) -> bool:
    """Undo a disqualification: the submission ranks again (its reason is cleared). Returns False when it is
    not disqualified."""
    with transaction.atomic():
        locked = _locked(submission, actor)
        if not locked.is_disqualified:
            return False
        Submission.objects.filter(pk=locked.pk).update(is_disqualified=False, disqualified_reason="")
        _audit(
            locked,
            actor,
            AuditAction.SUBMISSION_REQUALIFY,
            f"Undid the disqualification of {_label(locked)}.",
            previous_reason=locked.disqualified_reason,
        )
        task_leaderboards_rebuild(task=locked.task, field_changed=True)
    return True


def submission_set_baseline(*, submission: Submission, actor: User, baseline: bool = True) -> bool:
    """Mark the submission as a baseline (`baseline=False`: unmark it). A baseline ranks on its own row, beside
    the teams, and cannot be a team's final choice (its selection is cleared). Returns False when the flag is
    already as asked."""
    with transaction.atomic():
        locked = _locked(submission, actor)
        if locked.is_baseline == baseline:
            return False
        fields = {"is_baseline": baseline, **({"is_selected_final": False} if baseline else {})}
        Submission.objects.filter(pk=locked.pk).update(**fields)
        if baseline:
            action, summary = AuditAction.SUBMISSION_BASELINE, f"Marked {_label(locked)} as a baseline."
        else:
            action, summary = AuditAction.SUBMISSION_UNBASELINE, f"Unmarked {_label(locked)} as a baseline."
        _audit(locked, actor, action, summary)
        task_leaderboards_rebuild(task=locked.task)
    return True


def open_division_for(submission: Submission) -> Division | None:
    """The open division a closed-division submission would move to: the first that accepts its task."""
    return next((d for d in divisions_of_task(task=submission.task) if d.kind == Division.Kind.OPEN), None)


def submission_move_to_open(*, submission: Submission, actor: User, division: Division | None = None) -> bool:
    """Move a closed-division submission to an open division (the MLPerf rule for a submission that breaks a
    closed rule): `division`, or the first open division that accepts its task. It keeps its evaluation and
    scores, and loses its final selection (the team may have one in the open division already). Both
    divisions' leaderboards are rebuilt.

    Raises `InvalidInput` when the submission is not in a closed division, is still being processed, or no
    open division of its challenge accepts its task. Returns False when it is in that open division already."""
    with transaction.atomic():
        locked = _locked(submission, actor)
        if locked.division.kind == Division.Kind.OPEN and division in (None, locked.division):
            return False
        target = _move_target(locked, division)
        source = locked.division
        Submission.objects.filter(pk=locked.pk).update(division=target, is_selected_final=False)
        summary = f"Moved {_label(locked)} from the {source.name} division to the {target.name} division."
        _audit(locked, actor, AuditAction.SUBMISSION_MOVE_OPEN, summary, source=source.slug, target=target.slug)
        task_leaderboards_rebuild(task=locked.task)
    return True


def _move_target(submission: Submission, division: Division | None) -> Division:
    if submission.division.kind != Division.Kind.CLOSED:
        raise InvalidInput(f"Submission #{submission.pk} is not in a closed division.")
    if not submission.is_terminal:
        raise InvalidInput(f"Submission #{submission.pk} is {submission.status}; move it once that has ended.")
    target = division or open_division_for(submission)
    accepting = {d.pk for d in divisions_of_task(task=submission.task) if d.kind == Division.Kind.OPEN}
    if target is None or target.pk not in accepting:
        raise InvalidInput(f"No open division of this challenge accepts task {submission.task.slug}.")
    return target


def award_grant_audited(*, submission: Submission, actor: User, name: str, description: str = "") -> Award:
    """Grant an award to the submission (`award_grant`, which raises `InvalidInput` for a duplicate name)."""
    with transaction.atomic():
        locked = _locked(submission, actor)
        award = award_grant(submission=locked, name=name, description=description, granted_by=actor)
        _audit(
            locked,
            actor,
            AuditAction.AWARD_GRANT,
            f"Granted the award {award.name!r} to {_label(locked)}.",
            award=award.name,
            description=award.description,
        )
    return award


def award_revoke_audited(*, award: Award, actor: User) -> bool:
    """Revoke the award. Returns False when it was revoked already."""
    with transaction.atomic():
        locked = _locked(award.submission, actor)
        if not Award.objects.filter(pk=award.pk).exists():
            return False
        award_revoke(award=award)
        _audit(
            locked,
            actor,
            AuditAction.AWARD_REVOKE,
            f"Revoked the award {award.name!r} of {_label(locked)}.",
            award=award.name,
        )
    return True
