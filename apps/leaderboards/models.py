"""Materialised leaderboards: a pure function of immutable scores and ranking configuration (the ranking
rule, the splits revealed, the task weights of the challenge board)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.accounts.models import Team
from apps.challenges.models import Challenge, Task
from apps.divisions.models import Division
from apps.submissions.models import Score, Submission, private_storage


class Leaderboard(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="leaderboards")
    division = models.ForeignKey(Division, on_delete=models.CASCADE, related_name="leaderboards")
    split = models.CharField(max_length=10, choices=Score.Split.choices, default=Score.Split.PUBLIC)
    version = models.PositiveIntegerField(default=0, help_text="Bumped by every rebuild; the ETag of reads.")
    rebuilt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "division", "split"], name="leaderboard_unique")]

    def __str__(self) -> str:
        return f"{self.task} / {self.division.slug} / {self.split}"


class LeaderboardEntry(models.Model):
    """One ranked row: a team's best submission (or a baseline, each ranked on its own)."""

    leaderboard = models.ForeignKey(Leaderboard, on_delete=models.CASCADE, related_name="entries")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveIntegerField()
    primary = models.FloatField()
    metrics = models.JSONField(default=dict)
    is_baseline = models.BooleanField(default=False)
    submitted_at = models.DateTimeField()
    submission_count = models.PositiveIntegerField(default=1)
    public_rank = models.PositiveIntegerField(
        null=True, blank=True, help_text="Private boards: the row's rank on the public board (the shake-up)."
    )

    class Meta:
        ordering = ["leaderboard", "rank", "submitted_at"]
        constraints = [models.UniqueConstraint(fields=["leaderboard", "submission"], name="leaderboard_entry_unique")]

    def __str__(self) -> str:
        return f"#{self.rank} {self.team_id} ({self.primary:.6g})"


class SplitReveal(models.Model):
    """An organizer's early reveal of a task's private or concealed leaderboards to everyone (before the date
    or policy that would reveal them). Permanent: there is no un-reveal, since participants may have seen it."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="split_reveals")
    split = models.CharField(max_length=10, choices=Score.Split.choices)
    revealed_at = models.DateTimeField()
    revealed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "split"], name="split_reveal_unique"),
            # The public split is always visible: revealing it would mean nothing.
            models.CheckConstraint(condition=~models.Q(split="public"), name="split_reveal_not_public"),
        ]

    def __str__(self) -> str:
        return f"{self.task} / {self.split} revealed"


class TaskWeight(models.Model):
    """The organizer's weight of a task on the challenge leaderboard (1 when there is no row)."""

    DEFAULT = 1.0

    task = models.OneToOneField(Task, on_delete=models.CASCADE, related_name="leaderboard_weight")
    weight = models.FloatField(default=DEFAULT, help_text="Weight on the challenge leaderboard (0 leaves it out).")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weight__gte=0),
                name="task_weight_non_negative",
                violation_error_message="A weight is a number of at least 0 (0 leaves the task out).",
            )
        ]

    def __str__(self) -> str:
        return f"{self.task}: {self.weight:g}"


def _export_path(instance: Export, filename: str) -> str:
    return f"exports/{instance.challenge_id}/{filename}"


class Export(models.Model):
    """An organizer's export of every submission of a challenge (metadata and scores, never files), written
    by a background task into private storage and downloadable by the challenge's organizers only."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="exports")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    file = models.FileField(storage=private_storage, upload_to=_export_path, blank=True, max_length=300)
    rows = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"export #{self.pk} of {self.challenge} ({self.status})"
