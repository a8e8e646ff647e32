"""Organizer actions on one submission that rebuild the leaderboards: rescoring, disqualification, the baseline
flag, moving it to the open division. Each checks that the actor organizes the challenge, changes the submission
under a row lock, writes one audit entry and rebuilds the leaderboards it affects (every board of the task), all
in one transaction. Those that can find nothing to change return False and write nothing: running them twice is
harmless. The organizer actions that rebuild nothing live, audited alike, in the layer of what they change
(`submissions.awards`, `submissions.services.verification.submission_reverify`)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from apps.backoffice.services.ranking import task_leaderboards_rebuild
from apps.challenges.models import AuditAction
from apps.core.errors import InvalidInput
from apps.divisions.models import Division
from apps.divisions.selectors import divisions_of_task
from apps.submissions.audit import submission_audit_record, submission_label, submission_lock_for_organizer
from apps.submissions.models import Submission
from apps.submissions.services.admin_actions import submission_queue_rescore

Status = Submission.Status


def submission_rescore(*, submission: Submission, actor: User) -> bool:
    """Queue a scored or failed submission for a new evaluation (`submission_queue_rescore`), with an audit
    entry; its current score keeps its rank until the new one lands. Raises `Forbidden` unless the actor
    organizes the challenge. Returns False, recording nothing, when it is in no state to be rescored."""
    with transaction.atomic():
        locked = submission_lock_for_organizer(submission=submission, actor=actor)
        if not submission_queue_rescore(submission=locked):
            return False
        _audit(locked, actor, AuditAction.SUBMISSION_RESCORE, f"Rescoring submission {submission_label(locked)}.")
        task_leaderboards_rebuild(task=locked.task)
    return True


def _audit(submission: Submission, actor: User, action: str, summary: str, **details: object) -> None:
    submission_audit_record(submission=submission, actor=actor, action=action, summary=summary, details=details)


def submission_disqualify(*, submission: Submission, actor: User, reason: str) -> bool:
    """Disqualify the submission: it leaves every leaderboard, and its team sees `reason` on its page. Raises
    `InvalidInput` without a reason. Returns False when it is disqualified already (its reason unchanged)."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Give the reason for the disqualification: the team will read it.")
    with transaction.atomic():
        locked = submission_lock_for_organizer(submission=submission, actor=actor)
        if locked.is_disqualified:
            return False
        Submission.objects.filter(pk=locked.pk).update(is_disqualified=True, disqualified_reason=reason)
        _audit(
            locked,
            actor,
            AuditAction.SUBMISSION_DISQUALIFY,
            f"Disqualified {submission_label(locked)}: {reason}",
            reason=reason,
        )
        task_leaderboards_rebuild(task=locked.task, field_changed=True)
    return True


def submission_requalify(*, submission: Submission, actor: User) -> bool:
    """Undo a disqualification: the submission ranks again (its reason is cleared). Returns False when it is
    not disqualified."""
    with transaction.atomic():
        locked = submission_lock_for_organizer(submission=submission, actor=actor)
        if not locked.is_disqualified:
            return False
        Submission.objects.filter(pk=locked.pk).update(is_disqualified=False, disqualified_reason="")
        _audit(
            locked,
            actor,
            AuditAction.SUBMISSION_REQUALIFY,
            f"Undid the disqualification of {submission_label(locked)}.",
            previous_reason=locked.disqualified_reason,
        )
        task_leaderboards_rebuild(task=locked.task, field_changed=True)
    return True


def submission_set_baseline(*, submission: Submission, actor: User, baseline: bool = True) -> bool:
    """Mark the submission as a baseline (`baseline=False`: unmark it). A baseline ranks on its own row, beside
    the teams, and cannot be a team's final choice (its selection is cleared). Returns False when the flag is
    already as asked."""
    with transaction.atomic():
        locked = submission_lock_for_organizer(submission=submission, actor=actor)
        if locked.is_baseline == baseline:
            return False
        fields = {"is_baseline": baseline, **({"is_selected_final": False} if baseline else {})}
        Submission.objects.filter(pk=locked.pk).update(**fields)
        if baseline:
            action, summary = AuditAction.SUBMISSION_BASELINE, f"Marked {submission_label(locked)} as a baseline."
        else:
            action, summary = AuditAction.SUBMISSION_UNBASELINE, f"Unmarked {submission_label(locked)} as a baseline."
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
        locked = submission_lock_for_organizer(submission=submission, actor=actor)
        if locked.division.kind == Division.Kind.OPEN and division in (None, locked.division):
            return False
        target = _move_target(locked, division)
        source = locked.division
        Submission.objects.filter(pk=locked.pk).update(division=target, is_selected_final=False)
        summary = f"Moved {submission_label(locked)} from the {source.name} division to the {target.name} division."
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
