"""Materialised leaderboards: a pure function of immutable scores and ranking configuration."""

from __future__ import annotations

from django.db import models

from apps.accounts.models import Team
from apps.challenges.models import Task
from apps.divisions.models import Division
from apps.submissions.models import Score, Submission


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

    class Meta:
        ordering = ["leaderboard", "rank", "submitted_at"]
        constraints = [models.UniqueConstraint(fields=["leaderboard", "submission"], name="leaderboard_entry_unique")]

    def __str__(self) -> str:
        return f"#{self.rank} {self.team_id} ({self.primary:.6g})"
