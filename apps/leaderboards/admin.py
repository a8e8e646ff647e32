"""Exports in the back office, read-only. Leaderboards and task weights are registered by
`apps.backoffice.admin`, beside the other actions that change what participants see."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.leaderboards.models import Export


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
