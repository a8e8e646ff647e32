"""Challenge bundles in the admin: the challenge action that downloads one, and the page that imports one (the
importing staff member becomes its organizer). Both call the bundle services; nothing else happens here."""

from __future__ import annotations

import shutil
import tempfile
from functools import partial
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from apps.backoffice.admin.base import acting_user
from apps.backoffice.bundles import InvalidBundle, challenge_bundle_export, challenge_bundle_import
from apps.challenges.audit import require_organizer
from apps.challenges.models import Challenge
from apps.core.errors import DomainError
from apps.core.files import uploaded_file_path

IMPORT_URL = "challenges_challenge_import_bundle"
"""The import page's URL name in the admin namespace."""


class BundleImportForm(forms.Form):
    bundle = forms.FileField(
        help_text="A challenge bundle (.zip), as the action 'Export as a bundle' or `manage.py export_challenge` "
        "writes it."
    )
    slug = forms.SlugField(
        required=False,
        max_length=80,
        help_text="Import under this slug instead of the bundle's (needed when that slug is taken already).",
    )


@admin.action(description="Export as a bundle (a zip of the settings and all data, hidden files included)")
def export_bundle(
    model_admin: admin.ModelAdmin[Challenge], request: HttpRequest, queryset: QuerySet[Challenge]
) -> HttpResponseBase | None:
    """Download the selected challenge's bundle (one challenge at a time)."""
    challenges = list(queryset[:2])
    if len(challenges) != 1:
        model_admin.message_user(request, "Select exactly one challenge to export.", messages.WARNING)
        return None
    challenge = challenges[0]
    work = Path(tempfile.mkdtemp(prefix="bundle-export-"))
    try:
        require_organizer(challenge=challenge, actor=acting_user(request))
        target = challenge_bundle_export(challenge=challenge, target=work / f"{challenge.slug}.zip")
        handle = target.open("rb")
    except DomainError as exc:
        model_admin.message_user(request, f"{challenge}: {exc.message}", messages.ERROR)
        return None
    finally:
        # The open handle keeps the bytes readable until the response is sent and closes it.
        shutil.rmtree(work, ignore_errors=True)
    return FileResponse(handle, as_attachment=True, filename=target.name, content_type="application/zip")


def bundle_import_urls(model_admin: admin.ModelAdmin[Challenge]) -> list[URLPattern]:
    """The import page's URL, for the challenge admin's `get_urls` (staff only, through `admin_view`)."""
    view = model_admin.admin_site.admin_view(partial(bundle_import_view, model_admin))
    return [path("import-bundle/", view, name=IMPORT_URL)]


def bundle_import_view(model_admin: admin.ModelAdmin[Challenge], request: HttpRequest) -> HttpResponse:
    """The upload form; on success, the new challenge's change page. Refused without the right to add
    challenges. A refused bundle lists every problem and nothing is created."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    form = BundleImportForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        user, upload = acting_user(request), form.cleaned_data["bundle"]
        try:
            with uploaded_file_path(upload) as archive:
                challenge = challenge_bundle_import(
                    archive=archive,
                    organizers=[user],
                    slug=form.cleaned_data["slug"] or None,
                    actor=user,
                    archive_name=upload.name,
                )
        except InvalidBundle as exc:
            problems = exc.problems
        except DomainError as exc:
            problems = [exc.message]
        else:
            model_admin.message_user(request, f"Imported the challenge {challenge.slug} from {upload.name}.")
            return redirect("admin:challenges_challenge_change", challenge.pk)
    context = {
        **model_admin.admin_site.each_context(request),
        "form": form,
        "problems": problems,
        "opts": model_admin.model._meta,
        "title": "Import a challenge bundle",
    }
    return TemplateResponse(request, "backoffice/bundle_import.html", context)
