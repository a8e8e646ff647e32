"""What the back-office admin classes share: the acting user, and applying a service to each selected row."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import Model
from django.http import HttpRequest
from django.template.response import TemplateResponse

from apps.core.errors import DomainError
from apps.core.users import signed_in_user

T = TypeVar("T")
APPLY = "apply"
"""Posted by an intermediate page: its form is filled in, apply the action."""


def acting_user(request: HttpRequest) -> User:
    """The signed-in staff member acting in the admin (the audit log names them)."""
    return signed_in_user(request)


def apply_each(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    items: Iterable[T],
    apply: Callable[[T], bool],
    *,
    done: str,
    unchanged: str,
    noun: str = "submission(s)",
) -> int:
    """Apply a service to each item, each in its own transaction (one refusal does not undo the others):
    report each domain error, then how many changed (`done`, e.g. "Disqualified") and how many needed no change
    (`unchanged`, e.g. "already disqualified"). Returns how many changed."""
    changed = same = 0
    for item in items:
        try:
            if apply(item):
                changed += 1
            else:
                same += 1
        except DomainError as exc:
            model_admin.message_user(request, f"{item}: {exc.message}", messages.ERROR)
    text = f"{done} {changed} {noun}." + (f" {same} {unchanged}." if same else "")
    model_admin.message_user(request, text, messages.SUCCESS if changed else messages.WARNING)
    return changed


def ask(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    selected: list[Model],
    form: forms.Form,
    *,
    action: str,
    title: str,
    intro: str,
    button: str,
) -> TemplateResponse:
    """The intermediate page of an action that needs input or confirmation; it posts back to the same action
    with the same selection and `APPLY`."""
    context = {
        **model_admin.admin_site.each_context(request),
        "form": form,
        "items": [str(obj) for obj in selected],
        "selected": [obj.pk for obj in selected],
        "action": action,
        "title": title,
        "intro": intro,
        "button": button,
        "apply": APPLY,
        "opts": model_admin.model._meta,
    }
    return TemplateResponse(request, "backoffice/action_form.html", context)
