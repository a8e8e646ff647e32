"""Submissions in the back office: read-only records, with rescoring."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from apps.core.errors import InvalidInput
from apps.submissions.models import Evaluation, Score, Submission, VerificationStage
from apps.submissions.services.admin_actions import submission_rescore
from apps.submissions.services.slices import task_add_discovered_slice
from apps.submissions.services.verification import submission_reverify, verification_needed


class DiscoveredSliceForm(forms.Form):
    column = forms.CharField(help_text="The submission's score column (its name, or 0-based position).")
    name = forms.SlugField(max_length=60, help_text="The new ground-truth slice's name.")
    threshold = forms.FloatField(initial=0.5, help_text="Members: examples scored above this.")
    complement = forms.BooleanField(required=False, help_text="Take the complement (score at most the threshold).")


class EvaluationInline(admin.TabularInline[Evaluation, Submission]):
    model = Evaluation
    fields = ["created_at", "evaluator_version", "data_version", "primary_metric", "duration_seconds", "worker"]
    readonly_fields = [
        "created_at",
        "evaluator_version",
        "data_version",
        "primary_metric",
        "duration_seconds",
        "worker",
    ]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Submission | None = None) -> bool:
        return False


_STAGE_FIELDS = (
    "stage", "status", "message", "stderr_tail", "organizer_detail", "outcome", "exit_code", "wall_seconds",
    "cpu_seconds", "max_rss_bytes", "output_bytes", "started_at", "finished_at",
)  # fmt: skip


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


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin[Submission]):
    list_display = ["pk", "task", "team", "division", "status", "attempts", "created_at", "is_baseline"]
    list_filter = ["status", "is_baseline", "task__challenge", "task"]
    search_fields = ["team__name", "artifact_sha256"]
    readonly_fields = [
        "task", "team", "division", "submitted_by", "artifact_name", "artifact_size", "artifact_sha256",
        "code_archive_sha256", "method_description", "code_url", "status", "message", "progress", "progress_message",
        "attempts", "lease_owner", "lease_expires_at", "created_at", "queued_at", "started_at", "finished_at",
        "is_baseline", "current_evaluation", "is_selected_final",
        # Withdrawal and disqualification go through services that rebuild the leaderboard in the same
        # transaction; editing the flags here would leave it stale.
        "is_withdrawn", "is_disqualified",
    ]  # fmt: skip
    exclude = ["artifact", "code_archive", "concealed_output"]
    inlines = [EvaluationInline, VerificationStageInline]
    actions = ["rescore", "reverify", "add_discovered_slice"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Slice discovery: add a predicted slice to the ground truth and rescore")
    def add_discovered_slice(self, request: HttpRequest, queryset: QuerySet[Submission]) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one submission.", messages.ERROR)
            return None
        submission = queryset.get()
        form = DiscoveredSliceForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            try:
                queued = task_add_discovered_slice(submission=submission, **form.cleaned_data)
            except InvalidInput as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, f"Added slice {form.cleaned_data['name']!r}; {queued} submission(s) queued.")
                return None
        context = {**self.admin_site.each_context(request), "form": form, "submission": submission,
                   "action": "add_discovered_slice", "opts": self.model._meta}  # fmt: skip
        return TemplateResponse(request, "admin/submissions/add_slice.html", context)

    @admin.action(description="Rescore the selected submissions")
    def rescore(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        queued = sum(submission_rescore(submission=submission) for submission in queryset)
        self.message_user(
            request, f"Queued {queued} submission(s) for rescoring; others were not scored or failed yet."
        )

    @admin.action(description="Rerun the verification (closed division)")
    def reverify(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        selected = list(queryset.select_related("division"))
        chosen = [submission for submission in selected if verification_needed(submission)]
        queued = 0
        for submission in chosen:
            try:
                submission_reverify(submission=submission)
            except InvalidInput as exc:
                self.message_user(request, exc.message, messages.WARNING)
            else:
                queued += 1
        self.message_user(request, f"Queued {queued} submission(s) for a new verification.")
        if len(chosen) < len(selected):
            skipped = ", ".join(f"#{submission.pk}" for submission in selected if submission not in chosen)
            self.message_user(request, f"Not verified (no closed-division code to rerun): {skipped}.", messages.WARNING)


@admin.register(Score)
class ScoreAdmin(admin.ModelAdmin[Score]):
    list_display = ["evaluation", "split", "metric", "value"]
    list_filter = ["split"]

    def has_change_permission(self, request: HttpRequest, obj: Score | None = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
