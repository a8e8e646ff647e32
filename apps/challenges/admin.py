"""Participations in the back office. Challenges and tasks are registered by `apps.backoffice.admin`: their
saves and actions rebuild leaderboards and write the audit log, which live above this layer."""

from __future__ import annotations

from django.contrib import admin

from apps.challenges.models import Participation


@admin.register(Participation)
class ParticipationAdmin(admin.ModelAdmin[Participation]):
    list_display = ["challenge", "team", "status", "accepted_rules_at"]
    list_filter = ["status", "challenge"]
    list_editable = ["status"]
