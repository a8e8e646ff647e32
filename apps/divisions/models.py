"""Divisions: open (any method) and closed (automated; the code must be submitted and is rerun)."""

from __future__ import annotations

from django.db import models

from apps.challenges.models import Challenge, Task


class Division(models.Model):
    class Kind(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="divisions")
    slug = models.SlugField(max_length=40)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, help_text="Markdown: the division's rules.")
    tasks = models.ManyToManyField(Task, blank=True, related_name="divisions", help_text="Empty means every task.")
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["challenge", "order", "slug"]
        constraints = [models.UniqueConstraint(fields=["challenge", "slug"], name="division_slug_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def requires_code(self) -> bool:
        return self.kind == self.Kind.CLOSED
