"""Organizer actions on a whole task that rebuild its leaderboards: rescoring every submission. The task actions
that rebuild nothing live, audited alike, in the layer of what they change
(`submissions.services.slices.task_add_discovered_slice`, `leaderboards.services.leaderboard_reveal_split`)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from apps.backoffice.services.ranking import task_leaderboards_rebuild
from apps.challenges.audit import audit_record, require_organizer
from apps.challenges.models import AuditAction, Task
from apps.submissions.models import Submission
from apps.submissions.services.admin_actions import submission_queue_rescore

Status = Submission.Status


def task_rescore(*, task: Task, actor: User) -> int:
    """Queue every rescorable submission of the task (`Submission.objects.rescorable`) for a new evaluation, e.g.
    after a change of its data, configuration or evaluator version; each keeps its rank until its new score
    lands. One audit entry for the whole task. Returns how many were queued (0: nothing recorded)."""
    require_organizer(challenge=task.challenge, actor=actor)
    with transaction.atomic():
        candidates = Submission.objects.rescorable(task=task)
        queued = [submission.pk for submission in candidates if submission_queue_rescore(submission=submission)]
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
