from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.leaderboards.models import Leaderboard
from apps.leaderboards.services import leaderboard_rebuild


@admin.register(Leaderboard)
class LeaderboardAdmin(admin.ModelAdmin[Leaderboard]):
    list_display = ["__str__", "version", "rebuilt_at"]
    readonly_fields = ["task", "division", "split", "version", "rebuilt_at"]
    actions = ["rebuild"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Rebuild the selected leaderboards from their scores")
    def rebuild(self, request: HttpRequest, queryset: QuerySet[Leaderboard]) -> None:
        for leaderboard in queryset:
            leaderboard_rebuild(task=leaderboard.task, division=leaderboard.division, split=leaderboard.split)
        self.message_user(request, f"Rebuilt {queryset.count()} leaderboard(s).")
