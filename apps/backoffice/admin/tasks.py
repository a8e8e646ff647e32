"""Tasks in the back office: the benchmark type and its configuration (validated by the evaluator), quotas, and
the task data, uploaded file by file or as one archive. Every save is audited; a change of the ranking rule
rebuilds the task's leaderboards in the same transaction."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.files.uploadedfile import UploadedFile
from django.db.models import F, Model, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse

from apps.backoffice.admin.base import APPLY, acting_user, apply_each, ask
from apps.backoffice.admin.forms import RevealForm
from apps.backoffice.services.changes import (
    Snapshot,
    snapshot,
    task_changes_record,
    task_data_changes_record,
)
from apps.backoffice.services.tasks import task_rescore
from apps.challenges.models import Task, TaskDataFile
from apps.challenges.services import (
    clean_relative_path,
    data_file_required_role,
    task_check_data,
    task_config_validate,
    task_data_file_delete,
    task_data_file_put,
    task_data_file_set_role,
    task_data_import_archive,
    task_delete,
)
from apps.core.errors import DomainError, InvalidInput
from apps.core.files import uploaded_file_path
from apps.leaderboards.services import leaderboard_reveal_split
from apps.submissions.models import Score
from evaluators import available_slugs, get_evaluator

CONFIG_FIELDS = {"config", "concealed_config"}


def _evaluator_choices() -> list[tuple[str, str]]:
    return [(slug, f"{slug}: {get_evaluator(slug).title}") for slug in available_slugs()]


class TaskAdminForm(forms.ModelForm[Task]):
    evaluator_slug = forms.ChoiceField(choices=_evaluator_choices, label="Benchmark type")
    data_archive = forms.FileField(
        required=False,
        help_text="Optional: a zip or tar.gz of the whole task directory. Each file gets the role its benchmark "
        "declares (ground truth and evaluation sets are always hidden).",
    )

    class Meta:
        model = Task
        fields = [
            "challenge",
            "slug",
            "title",
            "description",
            "order",
            "evaluator_slug",
            "ml_task",
            "config",
            "is_published",
            "quota_per_day",
            "quota_total",
            "quota_window",
            "quota_concurrent",
            "quota_counts_rejected",
            "quota_counts_failed",
            "max_upload_bytes",
            "ranking_rule",
            "final_selections",
            "concealed_config",
            "concealed_visibility",
            "sandbox_cpu_seconds",
            "sandbox_wall_seconds",
            "sandbox_memory_mb",
            "sandbox_processes",
            "sandbox_output_mb",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The row as stored, before this form changes the instance: the audit log records the difference.
        self.audit_before: Snapshot | None = snapshot(self.instance) if self.instance.pk else None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        slug = data.get("evaluator_slug")
        if slug and "config" in data:
            try:
                data["config"] = task_config_validate(evaluator_slug=slug, config=data["config"])
            except InvalidInput as exc:
                self.add_error("config", exc.message)
        if slug and data.get("concealed_config") is not None:
            try:
                data["concealed_config"] = task_config_validate(
                    evaluator_slug=slug, config=data["concealed_config"], concealed=True
                )
            except InvalidInput as exc:
                self.add_error("concealed_config", exc.message)
        if self.instance.pk and slug != self.instance.evaluator_slug and self.instance.submissions.exists():
            self.add_error("evaluator_slug", "The benchmark type cannot change once the task has submissions.")
        return data


def bump_data_version_on_config_change(task: Task, form: forms.ModelForm[Task], change: bool) -> None:
    """A new configuration is new task data for the evaluators' per-process cache and for rescoring."""
    if change and CONFIG_FIELDS & set(form.changed_data):
        task.data_version = F("data_version") + 1


def record_task_save(request: HttpRequest, task: Task, form: TaskAdminForm) -> None:
    """Audit a saved task form (creation or the diff), and remind the organizer to rescore after a change of
    configuration (the stored scores were computed with the old one)."""
    task.refresh_from_db()
    task_changes_record(task=task, actor=acting_user(request), before=form.audit_before)
    if form.audit_before is not None and CONFIG_FIELDS & set(form.changed_data) and task.submissions.exists():
        messages.warning(
            request, f"{task}: the configuration changed; rescore its submissions (task action) to apply it."
        )


class TaskDataFileForm(forms.ModelForm[TaskDataFile]):
    upload = forms.FileField(required=False, help_text="A new file (replaces the current one).")

    class Meta:
        model = TaskDataFile
        fields = ["relative_path", "role"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["relative_path"].required = False
        self.fields["role"].required = False
        if self.instance.pk:
            # A stored file keeps its path: renaming a row would move a role onto other bytes (e.g. publish
            # ground truth under a harmless name). Upload under the new path and delete the old row instead.
            self.fields["relative_path"].disabled = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload: UploadedFile[Any] | None = data.get("upload")
        if not self.instance.pk and upload is None and data.get("relative_path"):
            self.add_error("upload", "Choose the file to upload.")
        if upload is not None and not data.get("relative_path"):
            data["relative_path"] = upload.name
        if data.get("relative_path"):
            try:
                data["relative_path"] = clean_relative_path(data["relative_path"])
            except InvalidInput as exc:
                self.add_error("relative_path", exc.message)
        return data


class TaskDataFileFormSet(BaseInlineFormSet[TaskDataFile, Task, TaskDataFileForm]):
    def clean(self) -> None:
        super().clean()
        slug = getattr(self.instance, "evaluator_slug", "")
        for form in self.forms:
            data = getattr(form, "cleaned_data", {})
            path, role = data.get("relative_path"), data.get("role")
            if not (slug and path and role == TaskDataFile.Role.PUBLIC):
                continue
            if data_file_required_role(evaluator_slug=slug, relative_path=path) == TaskDataFile.Role.HIDDEN:
                form.add_error("role", f"{path} is hidden data for this benchmark; it cannot be public.")


class TaskDataFileInline(admin.TabularInline[TaskDataFile, Task]):
    model = TaskDataFile
    form = TaskDataFileForm
    formset = TaskDataFileFormSet  # type: ignore[assignment]  # the stubs expect the generic ModelForm type
    fields = ["relative_path", "role", "upload", "size", "sha256"]
    readonly_fields = ["size", "sha256"]
    extra = 1


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin[Task]):
    form = TaskAdminForm
    list_display = ["__str__", "title", "evaluator_slug", "ml_task", "is_published", "ranking_rule", "data_version"]
    list_filter = ["evaluator_slug", "challenge"]
    search_fields = ["slug", "title", "challenge__slug"]
    readonly_fields = ["data_version", "data_problems"]
    inlines = [TaskDataFileInline]
    actions = ["check_data", "rescore_tasks", "reveal_private", "reveal_concealed"]

    @admin.display(description="Data check")
    def data_problems(self, obj: Task) -> str:
        if not obj.pk:
            return "Save the task, then upload its data."
        problems = task_check_data(task=obj)
        return "; ".join(problems) if problems else "All files the benchmark needs are present."

    def save_model(self, request: HttpRequest, obj: Task, form: Any, change: bool) -> None:
        bump_data_version_on_config_change(obj, form, change)
        super().save_model(request, obj, form, change)
        record_task_save(request, obj, form)
        archive = form.cleaned_data.get("data_archive")
        if archive is not None:
            try:
                with uploaded_file_path(archive) as path:
                    stored = task_data_import_archive(task=obj, archive_path=path)
            except InvalidInput as exc:
                self.message_user(request, f"The data archive was not imported: {exc.message}", messages.ERROR)
            else:
                paths = [data_file.relative_path for data_file in stored]
                task_data_changes_record(task=obj, actor=acting_user(request), changes={"imported": paths})
                self.message_user(request, f"Imported {len(stored)} data files from the archive.")

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not TaskDataFile:
            super().save_formset(request, form, formset, change)
            return
        # Sets new/changed/deleted_objects for the admin's change message; files are stored by the services.
        formset.save(commit=False)
        changes: dict[str, list[str]] = {"deleted": [], "stored": [], "role changed": []}
        for deleted in formset.deleted_objects:
            task_data_file_delete(data_file=deleted)
            changes["deleted"].append(deleted.relative_path)
        for inline_form in formset.forms:
            data = getattr(inline_form, "cleaned_data", {})
            if not data or data.get("DELETE"):
                continue
            if kind := _save_data_file(form.instance, inline_form, data):
                changes[kind].append(data["relative_path"])
        task_data_changes_record(task=form.instance, actor=acting_user(request), changes=changes)

    def delete_model(self, request: HttpRequest, obj: Task) -> None:
        task_delete(task=obj, actor=acting_user(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        for task in queryset.select_related("challenge"):
            task_delete(task=task, actor=acting_user(request))

    @admin.action(description="Check the data of the selected tasks")
    def check_data(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        for task in queryset:
            problems = task_check_data(task=task)
            level = messages.WARNING if problems else messages.SUCCESS
            self.message_user(request, f"{task}: {'; '.join(problems) or 'complete'}", level)

    @admin.action(description="Rescore every scored or failed submission of the selected tasks")
    def rescore_tasks(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        actor = acting_user(request)
        for task in queryset.select_related("challenge"):
            try:
                queued = task_rescore(task=task, actor=actor)
            except DomainError as exc:
                self.message_user(request, f"{task}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{task}: queued {queued} submission(s) for rescoring.")

    @admin.action(description="Reveal the private leaderboards of the selected tasks now (asks to confirm)")
    def reveal_private(self, request: HttpRequest, queryset: QuerySet[Task]) -> HttpResponse | None:
        return self._reveal(request, queryset, Score.Split.PRIVATE, "reveal_private")

    @admin.action(description="Reveal the concealed leaderboards of the selected tasks now (asks to confirm)")
    def reveal_concealed(self, request: HttpRequest, queryset: QuerySet[Task]) -> HttpResponse | None:
        return self._reveal(request, queryset, Score.Split.CONCEALED, "reveal_concealed")

    def _reveal(self, request: HttpRequest, queryset: QuerySet[Task], split: str, action: str) -> HttpResponse | None:
        tasks = list(queryset.select_related("challenge"))
        form = RevealForm(request.POST if APPLY in request.POST else None)
        if not form.is_valid():
            intro = (
                f"Everyone will see the {split} leaderboards of these tasks from now on, before the end of the "
                "challenge or the visibility policy would show them. The audit log records it."
            )
            selected: list[Model] = list(tasks)
            return ask(
                self,
                request,
                selected,
                form,
                action=action,
                title=f"Reveal the {split} leaderboards",
                intro=intro,
                button="Reveal",
            )
        actor = acting_user(request)
        apply_each(
            self,
            request,
            tasks,
            lambda task: leaderboard_reveal_split(task=task, split=split, user=actor),
            done=f"Revealed the {split} leaderboards of",
            unchanged="were revealed already",
            noun="task(s)",
        )
        return None


def _save_data_file(task: Task, inline_form: TaskDataFileForm, data: dict[str, Any]) -> str | None:
    """Store an uploaded file or a new role; returns what changed ("stored", "role changed") or None."""
    upload = data.get("upload")
    if upload is not None:
        task_data_file_put(task=task, relative_path=data["relative_path"], content=upload, role=data.get("role") or "")
        return "stored"
    if inline_form.instance.pk and "role" in inline_form.changed_data:
        task_data_file_set_role(data_file=inline_form.instance, role=data["role"])
        return "role changed"
    return None
