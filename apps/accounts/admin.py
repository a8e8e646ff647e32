from __future__ import annotations

from django.contrib import admin

from apps.accounts.models import Team, TeamMembership


class MembershipInline(admin.TabularInline[TeamMembership, Team]):
    model = TeamMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ["name", "personal_owner", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]
