"""Divisions in the back office, and as an inline of the challenge admin (registered here because divisions
sit above challenges in the layers: the challenges app does not know divisions exist)."""

from __future__ import annotations

from django.contrib import admin

from apps.challenges.admin import ChallengeAdmin
from apps.challenges.models import Challenge
from apps.divisions.models import Division


class DivisionInline(admin.TabularInline[Division, Challenge]):
    model = Division
    fields = ["slug", "kind", "name", "order", "description"]
    extra = 0


class ChallengeWithDivisionsAdmin(ChallengeAdmin):
    inlines = [*ChallengeAdmin.inlines, DivisionInline]


admin.site.unregister(Challenge)
admin.site.register(Challenge, ChallengeWithDivisionsAdmin)


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin[Division]):
    list_display = ["name", "challenge", "kind", "slug"]
    list_filter = ["kind", "challenge"]
    filter_horizontal = ["tasks"]
