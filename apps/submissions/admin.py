"""Scores in the back office: immutable, read-only. Submissions are registered by `apps.backoffice.admin`: some of
their actions (rescoring, disqualification, baselines ...) rebuild leaderboards, which live above this layer."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from apps.submissions.models import Score


@admin.register(Score)
class ScoreAdmin(admin.ModelAdmin[Score]):
    list_display = ["evaluation", "split", "metric", "value"]
    list_filter = ["split"]

    def has_change_permission(self, request: HttpRequest, obj: Score | None = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Score | None = None) -> bool:
        return False  # immutable: a score leaves with its submission, never on its own and unaudited
