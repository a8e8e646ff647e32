from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.models import ApiToken, Team, TeamEvent, TeamInvite, TeamMembership
from apps.accounts.services import api_token_revoke


class MembershipInline(admin.TabularInline[TeamMembership, Team]):
    """Read-only: members join by invitation and leave or are removed on the team page, whose services apply
    the team rules of its challenges (size, e-mail domains) and write the team's history."""

    model = TeamMembership
    extra = 0
    can_delete = False
    fields = ("user", "role", "joined_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Team | None = None) -> bool:
        return False


class InviteInline(admin.TabularInline[TeamInvite, Team]):
    """Invitation links, read-only: owners create and revoke them on the team page (the link is shown once)."""

    model = TeamInvite
    extra = 0
    can_delete = False
    fields = ("prefix", "created_by", "created_at", "expires_at", "revoked_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Team | None = None) -> bool:
        return False


class EventInline(admin.TabularInline[TeamEvent, Team]):
    """The membership history, append-only."""

    model = TeamEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "action", "user", "actor")
    readonly_fields = fields
    ordering = ["-created_at", "-pk"]

    def has_add_permission(self, request: HttpRequest, obj: Team | None = None) -> bool:
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    """Read-only: a team's name is on the materialised leaderboards and its members are bound by its
    challenges' rules, so it changes only through the team pages' services."""

    list_display = ["name", "personal_owner", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline, InviteInline, EventInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Team | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Team | None = None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """Tokens are created by their owners (account page); staff can only see and revoke them."""

    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__username", "prefix"]
    readonly_fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    exclude = ["key_hash"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset.select_related("user"):
            api_token_revoke(user=token.user, token_id=token.pk)
        self.message_user(request, f"Revoked {queryset.count()} token(s).")
