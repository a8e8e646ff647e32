"""The audit log: what organizers and staff did that changes what participants see."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from apps.challenges.models import Challenge


class AuditAction(models.TextChoices):
    SUBMISSION_RESCORE = "submission-rescore", "Rescored a submission"
    SUBMISSION_REVERIFY = "submission-reverify", "Reran a submission's verification"
    TASK_RESCORE = "task-rescore", "Rescored a whole task"
    SUBMISSION_DISQUALIFY = "submission-disqualify", "Disqualified a submission"
    SUBMISSION_REQUALIFY = "submission-requalify", "Undid a disqualification"
    SUBMISSION_BASELINE = "submission-baseline", "Marked a submission as a baseline"
    SUBMISSION_UNBASELINE = "submission-unbaseline", "Unmarked a baseline"
    SUBMISSION_MOVE_OPEN = "submission-move-open", "Moved a submission to the open division"
    AWARD_GRANT = "award-grant", "Granted an award"
    AWARD_REVOKE = "award-revoke", "Revoked an award"
    LEADERBOARD_REVEAL = "leaderboard-reveal", "Revealed a leaderboard early"
    TASK_CREATE = "task-create", "Created a task"
    TASK_CHANGE = "task-change", "Changed a task"
    TASK_DATA = "task-data", "Changed a task's data"
    TASK_SLICE = "task-slice", "Added a discovered slice to the ground truth"
    CHALLENGE_CHANGE = "challenge-change", "Changed the challenge"
    DIVISION_CHANGE = "division-change", "Changed a division"


class AuditEntry(models.Model):
    """One action of an organizer or staff member on a challenge. Append-only: written by `audit_record` in the
    transaction of the change it records, never changed afterwards (saving an existing entry raises).

    Deleted with its challenge (nothing is left to audit then; a challenge with submissions cannot be deleted).
    The actor's name is copied, so the entry still says who acted after the account is gone."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="audit_entries")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    summary = models.TextField(help_text="What happened, in a sentence.")
    submission_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="The submission concerned, if any.")
    details = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["challenge", "-created_at"], name="audit_challenge_time_idx")]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name or 'system'}: {self.summary}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("audit entries are immutable")
        super().save(*args, **kwargs)
