"""Participations in the back office: read-only rows, approved or rejected by actions that call the services
(the organizer check, `decided_by`/`decided_at` and the audit entry live there). Challenges and tasks are
registered by `apps.backoffice.admin`: their saves and actions rebuild leaderboards, which live above this
layer."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.challenges.models import Participation
from apps.challenges.services import participation_approve, participation_reject
from apps.core.errors import DomainError
from apps.core.users import signed_in_user

Decide = Callable[..., Participation]


@admin.register(Participation)
class ParticipationAdmin(admin.ModelAdmin[Participation]):
    list_display = ["challenge", "team", "status", "accepted_rules_at", "decided_by", "decided_at"]
    list_filter = ["status", "challenge"]
    search_fields = ["team__name", "challenge__slug"]
    # Every field, status included: a registration changes only through the actions (audited services).
    readonly_fields = [
        "challenge",
        "team",
        "status",
        "registered_by",
        "accepted_rules_at",
        "created_at",
        "decided_by",
        "decided_at",
    ]
    actions = ["approve", "reject"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # teams register themselves, under the challenge's rules (participation_register)

    def has_delete_permission(self, request: HttpRequest, obj: Participation | None = None) -> bool:
        return False  # reject the registration instead: the decision is audited, a deletion would not be

    @admin.action(description="Approve the selected registrations")
    def approve(self, request: HttpRequest, queryset: QuerySet[Participation]) -> None:
        self._decide(request, queryset, participation_approve, "Approved")

    @admin.action(description="Reject the selected registrations")
    def reject(self, request: HttpRequest, queryset: QuerySet[Participation]) -> None:
        self._decide(request, queryset, participation_reject, "Rejected")

    def _decide(self, request: HttpRequest, queryset: QuerySet[Participation], decide: Decide, done: str) -> None:
        user: User = signed_in_user(request)
        decided = 0
        for participation in queryset.select_related("challenge", "team"):
            try:
                decide(participation=participation, user=user)
            except DomainError as exc:
                self.message_user(request, f"{participation}: {exc.message}", messages.ERROR)
            else:
                decided += 1
        self.message_user(request, f"{done} {decided} registration(s).")
