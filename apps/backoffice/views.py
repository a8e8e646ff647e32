"""The audit log page of a challenge, for its organizers."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.backoffice.selectors import challenge_audit_log


@require_GET
@login_required
def challenge_audit(request: HttpRequest, slug: str) -> HttpResponse:
    log = challenge_audit_log(slug=slug, user=request.user)
    return render(request, "backoffice/audit.html", {"log": log, "challenge": log.challenge})
