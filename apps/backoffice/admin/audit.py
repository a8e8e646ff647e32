"""The audit log in the admin: read-only (entries are written by the services whose changes they record)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from apps.challenges.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin[AuditEntry]):
    list_display = ["created_at", "challenge", "actor_name", "action", "summary", "submission_id"]
    list_filter = ["action", "challenge"]
    search_fields = ["summary", "actor_name"]
    date_hierarchy = "created_at"
    fields = readonly_fields = (
        "created_at",
        "challenge",
        "actor",
        "actor_name",
        "action",
        "summary",
        "submission_id",
        "details",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False
