"""Challenges in the back office, with their tasks and divisions inline, and divisions on their own. Every save
is audited (the diff of the challenge's fields and organizers, of each task, of the divisions); a change that
affects ranking rebuilds the leaderboards in the same transaction."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import URLPattern

from apps.backoffice.admin.base import acting_user
from apps.backoffice.admin.bundles import bundle_import_urls, export_bundle
from apps.backoffice.admin.tasks import TaskAdminForm, bump_data_version_on_config_change, record_task_save
from apps.backoffice.services.changes import (
    Snapshot,
    challenge_changes_record,
    challenge_snapshot,
    division_delete,
    division_snapshot,
    divisions_changes_record,
)
from apps.challenges.models import Challenge, Task
from apps.challenges.services import task_delete
from apps.divisions.models import Division


class TaskInline(admin.StackedInline[Task, Challenge]):
    model = Task
    form = TaskAdminForm
    fields = [
        "slug",
        "title",
        "order",
        "evaluator_slug",
        "ml_task",
        "config",
        "is_published",
        "quota_per_day",
        "quota_total",
    ]
    extra = 0
    show_change_link = True


class DivisionInline(admin.TabularInline[Division, Challenge]):
    model = Division
    fields = ["slug", "kind", "name", "order", "description"]
    extra = 0


class ChallengeAdminForm(forms.ModelForm[Challenge]):
    """Keeps the challenge as stored before the save, for the audit log (the admin supplies Meta)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.audit_before: Snapshot | None = challenge_snapshot(self.instance) if self.instance.pk else None


def _divisions_of(challenge: Challenge) -> dict[int, Snapshot]:
    return {division.pk: division_snapshot(division) for division in Division.objects.filter(challenge=challenge)}


@admin.register(Challenge)
class ChallengeAdmin(admin.ModelAdmin[Challenge]):
    form = ChallengeAdminForm
    list_display = ["title", "slug", "visibility", "starts_at", "ends_at"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["organizers"]
    search_fields = ["title", "slug"]
    inlines = [TaskInline, DivisionInline]
    actions = [export_bundle]
    change_list_template = "backoffice/challenge_change_list.html"  # adds the "Import a bundle" link

    def get_urls(self) -> list[URLPattern]:
        return [*bundle_import_urls(self), *super().get_urls()]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # After the organizers (many-to-many) are saved, so that their change is part of the diff.
        challenge_changes_record(challenge=form.instance, actor=acting_user(request), before=form.audit_before)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is Task:
            self._save_tasks(request, formset)
        elif formset.model is Division:
            before = _divisions_of(form.instance)
            super().save_formset(request, form, formset, change)
            after = _divisions_of(form.instance)
            divisions_changes_record(challenge=form.instance, actor=acting_user(request), before=before, after=after)
        else:
            super().save_formset(request, form, formset, change)

    def _save_tasks(self, request: HttpRequest, formset: Any) -> None:
        formset.save(commit=False)
        for deleted in formset.deleted_objects:
            task_delete(task=deleted, actor=acting_user(request))
        for task_form in formset.forms:
            task = task_form.instance
            if task_form in formset.deleted_forms or not task_form.has_changed():
                continue
            bump_data_version_on_config_change(task, task_form, change=task_form.audit_before is not None)
            task.save()
            record_task_save(request, task, task_form)
        formset.save_m2m()


class DivisionAdminForm(forms.ModelForm[Division]):
    """Keeps the division as stored before the save, for the audit log (the admin supplies Meta)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.audit_before: Snapshot | None = division_snapshot(self.instance) if self.instance.pk else None


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin[Division]):
    form = DivisionAdminForm
    list_display = ["name", "challenge", "kind", "slug"]
    list_filter = ["kind", "challenge"]
    filter_horizontal = ["tasks"]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        division = form.instance
        before = {division.pk: form.audit_before} if form.audit_before is not None else {}
        divisions_changes_record(
            challenge=division.challenge,
            actor=acting_user(request),
            before=before,
            after={division.pk: division_snapshot(division)},
        )

    def delete_model(self, request: HttpRequest, obj: Division) -> None:
        self.delete_queryset(request, Division.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Division]) -> None:
        for division in queryset.select_related("challenge"):
            division_delete(division=division, actor=acting_user(request))
