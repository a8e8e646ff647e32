"""Submissions in the back office: read-only records, with the organizers' actions on them. Each action calls
a service that writes its own audit entry and rebuilds the leaderboards it affects, in one transaction; those
that need input (a disqualification's reason, an award) ask for it on an intermediate page."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from apps.backoffice.admin.base import APPLY, acting_user, apply_each, ask
from apps.backoffice.admin.forms import AwardForm, DiscoveredSliceForm, DisqualifyForm, RevokeAwardsForm
from apps.backoffice.services.submissions import (
    submission_disqualify,
    submission_move_to_open,
    submission_requalify,
    submission_rescore,
    submission_set_baseline,
)
from apps.core.errors import DomainError
from apps.submissions.awards import award_grant, award_revoke
from apps.submissions.models import Award, Evaluation, Submission, VerificationStage
from apps.submissions.services.slices import task_add_discovered_slice
from apps.submissions.services.verification import submission_reverify, verification_needed


class EvaluationInline(admin.TabularInline[Evaluation, Submission]):
    model = Evaluation
    fields = readonly_fields = (
        "created_at",
        "evaluator_version",
        "data_version",
        "primary_metric",
        "duration_seconds",
        "worker",
    )
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Submission | None = None) -> bool:
        return False


_STAGE_FIELDS = (
    "stage",
    "status",
    "message",
    "stderr_tail",
    "organizer_detail",
    "outcome",
    "exit_code",
    "wall_seconds",
    "cpu_seconds",
    "max_rss_bytes",
    "output_bytes",
    "started_at",
    "finished_at",
)


class VerificationStageInline(admin.TabularInline[VerificationStage, Submission]):
    """The closed-division verification as it last ran, organizer detail included (the back office is for
    organizers). Written by the verification service only."""

    model = VerificationStage
    fields = _STAGE_FIELDS
    readonly_fields = _STAGE_FIELDS
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Submission | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Submission | None = None) -> bool:
        return False


class AwardInline(admin.TabularInline[Award, Submission]):
    """Granted and revoked with the submission actions (audited), never edited here."""

    model = Award
    fields = readonly_fields = ("name", "description", "granted_by", "created_at")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Submission | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Submission | None = None) -> bool:
        return False


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin[Submission]):
    list_display = [
        "pk",
        "task",
        "team",
        "division",
        "status",
        "attempts",
        "created_at",
        "is_baseline",
        "is_disqualified",
    ]
    list_filter = ["status", "is_baseline", "is_disqualified", "task__challenge", "task", "division__kind"]
    search_fields = ["team__name", "artifact_sha256"]
    exclude = ("artifact", "code_archive", "concealed_output")
    inlines = [EvaluationInline, VerificationStageInline, AwardInline]
    actions = [
        "rescore",
        "reverify",
        "disqualify",
        "requalify",
        "mark_baseline",
        "unmark_baseline",
        "move_to_open",
        "grant_award",
        "revoke_awards",
        "add_discovered_slice",
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Submission | None = None) -> list[str]:
        # Every field, those added later too: a submission changes only through the actions, whose services
        # rebuild the leaderboards in the same transaction and write the audit log.
        return [field.name for field in Submission._meta.fields if field.name not in self.exclude]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Submission | None = None) -> bool:
        return False  # a deletion would change the boards unaudited and unrebuilt: disqualify it instead

    def _selected(self, queryset: QuerySet[Submission]) -> list[Submission]:
        return list(queryset.select_related("task__challenge", "division", "team"))

    def _ask(
        self,
        request: HttpRequest,
        queryset: QuerySet[Submission],
        form: forms.Form,
        *,
        action: str,
        title: str,
        intro: str,
        button: str,
    ) -> TemplateResponse:
        selected: list[Model] = list(self._selected(queryset))
        return ask(self, request, selected, form, action=action, title=title, intro=intro, button=button)

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[Submission],
        apply: Callable[[Submission], bool],
        *,
        done: str,
        unchanged: str,
    ) -> None:
        apply_each(self, request, self._selected(queryset), apply, done=done, unchanged=unchanged)

    @admin.action(description="Rescore the selected submissions")
    def rescore(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        actor = acting_user(request)
        queued = 0
        for submission in self._selected(queryset):
            try:
                queued += submission_rescore(submission=submission, actor=actor)
            except DomainError as exc:
                self.message_user(request, f"{submission}: {exc.message}", messages.ERROR)
        self.message_user(
            request, f"Queued {queued} submission(s) for rescoring; others were not scored or failed yet."
        )

    @admin.action(description="Rerun the verification (closed division)")
    def reverify(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        actor = acting_user(request)
        selected = self._selected(queryset)
        chosen = [submission for submission in selected if verification_needed(submission)]
        queued = 0
        for submission in chosen:
            try:
                submission_reverify(submission=submission, actor=actor)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.WARNING)
            else:
                queued += 1
        self.message_user(request, f"Queued {queued} submission(s) for a new verification.")
        if len(chosen) < len(selected):
            skipped = ", ".join(f"#{submission.pk}" for submission in selected if submission not in chosen)
            self.message_user(request, f"Not verified (no closed-division code to rerun): {skipped}.", messages.WARNING)

    @admin.action(description="Disqualify the selected submissions (asks for the reason)")
    def disqualify(self, request: HttpRequest, queryset: QuerySet[Submission]) -> HttpResponse | None:
        form = DisqualifyForm(request.POST if APPLY in request.POST else None)
        if not form.is_valid():
            intro = "They leave every leaderboard at once; each team reads the reason on its submission's page."
            return self._ask(
                request,
                queryset,
                form,
                action="disqualify",
                title="Disqualify submissions",
                intro=intro,
                button="Disqualify",
            )
        actor, reason = acting_user(request), form.cleaned_data["reason"]
        self._each(
            request,
            queryset,
            lambda s: submission_disqualify(submission=s, actor=actor, reason=reason),
            done="Disqualified",
            unchanged="were disqualified already",
        )
        return None

    @admin.action(description="Undo the disqualification of the selected submissions")
    def requalify(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        actor = acting_user(request)
        self._each(
            request,
            queryset,
            lambda s: submission_requalify(submission=s, actor=actor),
            done="Requalified",
            unchanged="were not disqualified",
        )

    @admin.action(description="Mark the selected submissions as baselines")
    def mark_baseline(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        actor = acting_user(request)
        self._each(
            request,
            queryset,
            lambda s: submission_set_baseline(submission=s, actor=actor, baseline=True),
            done="Marked as baseline:",
            unchanged="were baselines already",
        )

    @admin.action(description="Unmark the selected baselines")
    def unmark_baseline(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        actor = acting_user(request)
        self._each(
            request,
            queryset,
            lambda s: submission_set_baseline(submission=s, actor=actor, baseline=False),
            done="Unmarked as baseline:",
            unchanged="were not baselines",
        )

    @admin.action(description="Move the selected closed-division submissions to the open division (keeps scores)")
    def move_to_open(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        actor = acting_user(request)
        self._each(
            request,
            queryset,
            lambda s: submission_move_to_open(submission=s, actor=actor),
            done="Moved to the open division:",
            unchanged="were in the open division already",
        )

    @admin.action(description="Grant an award to the selected submissions")
    def grant_award(self, request: HttpRequest, queryset: QuerySet[Submission]) -> HttpResponse | None:
        form = AwardForm(request.POST if APPLY in request.POST else None)
        if not form.is_valid():
            intro = "The award is shown with the submission and its team; revoking it is an action too."
            return self._ask(
                request, queryset, form, action="grant_award", title="Grant an award", intro=intro, button="Grant"
            )
        actor, data = acting_user(request), form.cleaned_data

        def grant(submission: Submission) -> bool:
            award_grant(submission=submission, actor=actor, name=data["name"], description=data["description"])
            return True

        self._each(request, queryset, grant, done="Granted the award to", unchanged="")
        return None

    @admin.action(description="Revoke awards of the selected submissions")
    def revoke_awards(self, request: HttpRequest, queryset: QuerySet[Submission]) -> HttpResponse | None:
        awards = Award.objects.filter(submission__in=queryset).select_related("submission__task__challenge")
        form = RevokeAwardsForm(request.POST if APPLY in request.POST else None, awards=awards)
        if not form.is_valid():
            return self._ask(
                request,
                queryset,
                form,
                action="revoke_awards",
                title="Revoke awards",
                intro="Choose the awards to revoke.",
                button="Revoke",
            )
        actor = acting_user(request)
        apply_each(
            self,
            request,
            form.cleaned_data["awards"],
            lambda award: award_revoke(award=award, actor=actor),
            done="Revoked",
            unchanged="were revoked already",
            noun="award(s)",
        )
        return None

    @admin.action(description="Slice discovery: add a predicted slice to the ground truth and rescore")
    def add_discovered_slice(self, request: HttpRequest, queryset: QuerySet[Submission]) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one submission.", messages.ERROR)
            return None
        submission = queryset.select_related("task__challenge").get()
        form = DiscoveredSliceForm(request.POST if APPLY in request.POST else None)
        if form.is_valid():
            try:
                queued = task_add_discovered_slice(
                    submission=submission, actor=acting_user(request), **form.cleaned_data
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, f"Added slice {form.cleaned_data['name']!r}; {queued} submission(s) queued.")
                return None
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "submission": submission,
            "action": "add_discovered_slice",
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/submissions/add_slice.html", context)
