"""Organizer actions on a whole task: rescoring every submission, adding a discovered slice to the ground truth,
revealing a held-out leaderboard early."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from apps.backoffice.services.ranking import task_leaderboards_rebuild
from apps.challenges.audit import audit_record, require_organizer
from apps.challenges.models import AuditAction, Task
from apps.leaderboards.models import SplitReveal
from apps.leaderboards.services import leaderboard_reveal_split
from apps.submissions.models import Submission
from apps.submissions.services.admin_actions import submission_rescore
from apps.submissions.services.slices import task_add_discovered_slice

Status = Submission.Status


def task_rescore(*, task: Task, actor: User) -> int:
    """Queue every scored or failed submission of the task (withdrawn ones aside) for a new evaluation, e.g.
    after a change of its data, configuration or evaluator version; each keeps its rank until its new score
    lands. One audit entry for the whole task. Returns how many were queued (0: nothing recorded)."""
    require_organizer(challenge=task.challenge, actor=actor)
    with transaction.atomic():
        candidates = Submission.objects.filter(task=task, status__in=[Status.SCORED, Status.FAILED], is_withdrawn=False)
        queued = [submission.pk for submission in candidates if submission_rescore(submission=submission)]
        if not queued:
            return 0
        audit_record(
            challenge=task.challenge,
            actor=actor,
            action=AuditAction.TASK_RESCORE,
            summary=f"Rescoring task {task.slug}: {len(queued)} submission(s) queued.",
            details={"task": task.slug, "submissions": sorted(queued)},
        )
        task_leaderboards_rebuild(task=task)
    return len(queued)


def task_add_discovered_slice_audited(
    *, submission: Submission, actor: User, column: str, name: str, threshold: float = 0.5, complement: bool = False
) -> int:
    """Add a slice that `submission` discovered to its task's ground truth and queue the task's scored
    submissions for rescoring (`task_add_discovered_slice`, which raises `InvalidInput` with the evaluator's
    reason). One audit entry; returns how many were queued."""
    task = submission.task
    require_organizer(challenge=task.challenge, actor=actor)
    with transaction.atomic():
        queued = task_add_discovered_slice(
            submission=submission, column=column, name=name, threshold=threshold, complement=complement
        )
        audit_record(
            challenge=task.challenge,
            actor=actor,
            action=AuditAction.TASK_SLICE,
            submission_id=submission.pk,
            summary=f"Added slice {name!r} (column {column!r} of submission #{submission.pk}) to the ground truth "
            f"of task {task.slug}; {queued} submission(s) queued for rescoring.",
            details={
                "task": task.slug,
                "slice": name,
                "column": column,
                "threshold": threshold,
                "complement": complement,
                "queued": queued,
            },
        )
    return queued


def task_reveal_split_audited(*, task: Task, actor: User, split: str) -> bool:
    """Reveal the task's private or concealed leaderboards to everyone now (`leaderboard_reveal_split`, which
    raises `Forbidden` and `InvalidInput`), with an audit entry. Permanent. Returns False, recording nothing, when
    the split was revealed already."""
    require_organizer(challenge=task.challenge, actor=actor)
    with transaction.atomic():
        # Serialises two organizers revealing at once: one entry, not two.
        Task.objects.select_for_update().filter(pk=task.pk).first()
        if SplitReveal.objects.filter(task=task, split=split).exists():
            return False
        leaderboard_reveal_split(task=task, split=split, user=actor)
        audit_record(
            challenge=task.challenge,
            actor=actor,
            action=AuditAction.LEADERBOARD_REVEAL,
            summary=f"Revealed the {split} leaderboards of task {task.slug} to everyone, ahead of schedule.",
            details={"task": task.slug, "split": split},
        )
    return True
