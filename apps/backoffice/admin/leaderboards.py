"""Leaderboards and task weights in the back office. An organizer's rebuild and a change of weight go through
the leaderboard services, which check the organizer and write the audit entry."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from apps.backoffice.admin.base import acting_user, apply_each
from apps.leaderboards.models import Leaderboard, TaskWeight
from apps.leaderboards.services import leaderboard_rebuild_by_organizer, task_weight_set


@admin.register(Leaderboard)
class LeaderboardAdmin(admin.ModelAdmin[Leaderboard]):
    list_display = ["__str__", "version", "rebuilt_at"]
    list_filter = ["split", "task__challenge"]
    readonly_fields = ["task", "division", "split", "version", "rebuilt_at"]
    actions = ["rebuild"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Leaderboard | None = None) -> bool:
        return False  # a materialised board: rebuilt from its scores, never emptied by hand

    @admin.action(description="Rebuild the selected leaderboards from their scores")
    def rebuild(self, request: HttpRequest, queryset: QuerySet[Leaderboard]) -> None:
        actor = acting_user(request)

        def rebuild(leaderboard: Leaderboard) -> bool:
            leaderboard_rebuild_by_organizer(leaderboard=leaderboard, actor=actor)
            return True

        apply_each(
            self,
            request,
            list(queryset.select_related("task__challenge", "division")),
            rebuild,
            done="Rebuilt",
            unchanged="",
            noun="leaderboard(s)",
        )


@admin.register(TaskWeight)
class TaskWeightAdmin(admin.ModelAdmin[TaskWeight]):
    """A task's weight on its challenge leaderboard (a task without a row weighs 1)."""

    list_display = ["task", "weight", "updated_at"]
    list_filter = ["task__challenge"]

    def get_readonly_fields(self, request: HttpRequest, obj: TaskWeight | None = None) -> list[str]:
        return ["task"] if obj is not None else []  # a row belongs to its task; weigh another task on its own row

    def has_delete_permission(self, request: HttpRequest, obj: TaskWeight | None = None) -> bool:
        return False  # set the weight to 1 instead: the service audits it, a deletion would not be

    def save_model(self, request: HttpRequest, obj: TaskWeight, form: ModelForm[TaskWeight], change: bool) -> None:
        saved = task_weight_set(task=obj.task, weight=obj.weight, user=acting_user(request))
        obj.pk, obj.updated_at = saved.pk, saved.updated_at
