from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from apps.core.users import signed_in_user
from apps.leaderboards.models import Export, Leaderboard, TaskWeight
from apps.leaderboards.services import leaderboard_rebuild, task_weight_set


@admin.register(Leaderboard)
class LeaderboardAdmin(admin.ModelAdmin[Leaderboard]):
    list_display = ["__str__", "version", "rebuilt_at"]
    readonly_fields = ["task", "division", "split", "version", "rebuilt_at"]
    actions = ["rebuild"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Leaderboard | None = None) -> bool:
        return False  # a materialised board: rebuilt from its scores, never emptied by hand

    @admin.action(description="Rebuild the selected leaderboards from their scores")
    def rebuild(self, request: HttpRequest, queryset: QuerySet[Leaderboard]) -> None:
        for leaderboard in queryset:
            leaderboard_rebuild(task=leaderboard.task, division=leaderboard.division, split=leaderboard.split)
        self.message_user(request, f"Rebuilt {queryset.count()} leaderboard(s).")


@admin.register(TaskWeight)
class TaskWeightAdmin(admin.ModelAdmin[TaskWeight]):
    """A task's weight on its challenge leaderboard (a task without a row weighs 1)."""

    list_display = ["task", "weight", "updated_at"]
    list_filter = ["task__challenge"]

    def save_model(self, request: HttpRequest, obj: TaskWeight, form: ModelForm[TaskWeight], change: bool) -> None:
        # Through the service: the same organizer check and validation as every other interface.
        task_weight_set(task=obj.task, weight=obj.weight, user=signed_in_user(request))


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin[Export]):
    list_display = ["pk", "challenge", "requested_by", "status", "rows", "created_at", "finished_at"]
    list_filter = ["status", "challenge"]
    # No file link: the file is served only by the organizers' download view (leaderboards:export_download).
    exclude = ["file"]
    readonly_fields = [
        "challenge",
        "requested_by",
        "status",
        "rows",
        "message",
        "created_at",
        "started_at",
        "finished_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
