"""Ratchets and their rounds in the back office. Creating a ratchet checks the pairing of its two tasks
(`ratchet_pairing_problems`); the rounds move only through the services (open, end collection, close with an
explicit choice for unfinished validation), which check the organizer and write the audit log."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from apps.backoffice.admin.base import APPLY, acting_user, apply_each, ask
from apps.core.errors import DomainError
from apps.jobs.rounds import round_close
from apps.ratchets.models import Ratchet, Round, SuiteModel
from apps.ratchets.services import ratchet_create, ratchet_pairing_problems, round_open, round_start_validation


class RatchetAdminForm(forms.ModelForm[Ratchet]):
    class Meta:
        model = Ratchet
        fields = [
            "challenge",
            "slug",
            "title",
            "description",
            "training_task",
            "test_task",
            "top_k",
            "answers_to_decide",
            "answers_max",
            "gold_items",
            "gold_min_answers",
            "gold_min_accuracy",
            "answers_per_minute",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        training, test = data.get("training_task"), data.get("test_task")
        if training is not None and test is not None:
            for problem in ratchet_pairing_problems(training_task=training, test_task=test):
                self.add_error(None, problem)
            challenge = data.get("challenge")
            if challenge is not None and training.challenge_id != challenge.pk:
                self.add_error("training_task", "Pick a task of the ratchet's challenge.")
        return data


class RoundInline(admin.TabularInline[Round, Ratchet]):
    model = Round
    extra = 0
    fields = ["number", "status", "starts_at", "ends_at", "opened_at", "validating_at", "closed_at", "data_ready_at"]
    readonly_fields = ["status", "opened_at", "validating_at", "closed_at", "data_ready_at"]
    can_delete = False


@admin.register(Ratchet)
class RatchetAdmin(admin.ModelAdmin[Ratchet]):
    form = RatchetAdminForm
    list_display = ["__str__", "title", "training_task", "test_task", "top_k"]
    list_filter = ["challenge"]
    inlines = [RoundInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Ratchet | None = None) -> list[str]:
        # The pairing is fixed once made: rounds, items and promotions refer to both tasks.
        return ["challenge", "training_task", "test_task"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Ratchet | None = None) -> bool:
        return False  # its rounds, answers and provenance are the record of the competition

    def save_model(self, request: HttpRequest, obj: Ratchet, form: forms.ModelForm[Ratchet], change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        settings = {name: form.cleaned_data[name] for name in RatchetAdminForm.Meta.fields[6:]}
        created = ratchet_create(
            actor=acting_user(request),
            training_task=form.cleaned_data["training_task"],
            test_task=form.cleaned_data["test_task"],
            slug=form.cleaned_data["slug"],
            title=form.cleaned_data["title"],
            description=form.cleaned_data["description"],
            **settings,
        )
        obj.pk = created.pk


class CloseForm(forms.Form):
    pending = forms.ChoiceField(
        choices=[
            ("refuse", "Extend: refuse to close while items are still being validated"),
            ("drop", "Close now and drop the items still being validated (they never score)"),
        ],
        widget=forms.RadioSelect,
        initial="refuse",
    )


class SuiteModelInline(admin.TabularInline[SuiteModel, Round]):
    model = SuiteModel
    extra = 0
    fields = ["name", "team", "source", "source_score", "source_rank"]
    readonly_fields = ["name", "team", "source", "source_score", "source_rank"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Round | None = None) -> bool:
        return False


@admin.register(Round)
class RoundAdmin(admin.ModelAdmin[Round]):
    list_display = ["__str__", "status", "opened_at", "closed_at", "data_ready_at"]
    list_filter = ["status", "ratchet__challenge"]
    fields = ["ratchet", "number", "status", "starts_at", "ends_at", "opened_at", "validating_at", "closed_at"]
    readonly_fields = ["ratchet", "number", "status", "opened_at", "validating_at", "closed_at"]
    inlines = [SuiteModelInline]
    actions = ["open_round", "start_validation", "close_round"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the first round comes with its ratchet, each next one with the close of the one before

    def has_delete_permission(self, request: HttpRequest, obj: Round | None = None) -> bool:
        return False

    @admin.action(description="Open the selected draft rounds")
    def open_round(self, request: HttpRequest, queryset: QuerySet[Round]) -> None:
        actor = acting_user(request)
        rounds = list(queryset.select_related("ratchet__challenge", "ratchet__test_task", "ratchet__training_task"))
        apply_each(
            self,
            request,
            rounds,
            lambda r: bool(round_open(round_=r, actor=actor)),
            done="Opened",
            unchanged="",
            noun="round(s)",
        )

    @admin.action(description="End collection: the selected open rounds move to validation")
    def start_validation(self, request: HttpRequest, queryset: QuerySet[Round]) -> None:
        actor = acting_user(request)
        rounds = list(queryset.select_related("ratchet__challenge"))
        apply_each(
            self,
            request,
            rounds,
            lambda r: bool(round_start_validation(round_=r, actor=actor)),
            done="Moved to validation",
            unchanged="",
            noun="round(s)",
        )

    @admin.action(description="Close the selected round and open the next (asks about unfinished validation)")
    def close_round(self, request: HttpRequest, queryset: QuerySet[Round]) -> TemplateResponse | None:
        selected = list(queryset.select_related("ratchet__challenge", "ratchet__training_task", "ratchet__test_task"))
        form = CloseForm(request.POST if APPLY in request.POST else None)
        if not form.is_valid():
            return ask(
                self,
                request,
                list(selected),
                form,
                action="close_round",
                title="Close rounds",
                intro="Closing freezes the round's standings, trains the next suite on the best training sets, "
                "promotes the validated items that fooled the suite, and rescores both tasks.",
                button="Close",
            )
        actor = acting_user(request)
        for round_ in selected:
            try:
                round_close(round_=round_, actor=actor, pending=form.cleaned_data["pending"])
                self.message_user(request, f"{round_}: closed; the next round is open.", messages.SUCCESS)
            except DomainError as exc:
                self.message_user(request, f"{round_}: {exc.message}", messages.ERROR)
        return None
