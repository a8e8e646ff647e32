"""Submissions in the back office: read-only records, with rescoring."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.submissions.models import Evaluation, Score, Submission
from apps.submissions.services.admin_actions import submission_rescore


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


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin[Submission]):
    list_display = ["pk", "task", "team", "division", "status", "attempts", "created_at", "is_baseline"]
    list_filter = ["status", "is_baseline", "task__challenge", "task"]
    search_fields = ["team__name", "artifact_sha256"]
    readonly_fields = [
        "task", "team", "division", "submitted_by", "artifact_name", "artifact_size", "artifact_sha256",
        "code_archive_sha256", "method_description", "code_url", "status", "message", "progress", "progress_message",
        "attempts", "lease_owner", "lease_expires_at", "created_at", "queued_at", "started_at", "finished_at",
        "is_baseline", "current_evaluation",
    ]  # fmt: skip
    exclude = ["artifact", "code_archive"]
    inlines = [EvaluationInline]
    actions = ["rescore"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Rescore the selected submissions")
    def rescore(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        queued = sum(submission_rescore(submission=submission) for submission in queryset)
        self.message_user(
            request, f"Queued {queued} submission(s) for rescoring; others were not scored or failed yet."
        )


@admin.register(Score)
class ScoreAdmin(admin.ModelAdmin[Score]):
    list_display = ["evaluation", "split", "metric", "value"]
    list_filter = ["split"]

    def has_change_permission(self, request: HttpRequest, obj: Score | None = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
