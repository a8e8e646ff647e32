"""Submission pages: the form, "my submissions", the detail page and its live status."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from apps.challenges import selectors as challenge_selectors
from apps.challenges.evaluation import task_evaluator
from apps.core.errors import DomainError
from apps.core.users import signed_in_user
from apps.divisions.selectors import divisions_of_task
from apps.submissions import selectors
from apps.submissions.forms import SubmissionForm
from apps.submissions.models import Submission
from apps.submissions.services.intake import SubmissionInput, submission_create
from apps.submissions.services.quotas import quota_status


@require_http_methods(["GET", "POST"])
@login_required
def submission_new(request: HttpRequest, slug: str, task_slug: str) -> HttpResponse:
    challenge = challenge_selectors.challenge_get(slug=slug, user=request.user)
    task = challenge_selectors.task_get(challenge=challenge, slug=task_slug, user=request.user)
    team = challenge_selectors.competing_team(challenge=challenge, user=request.user)
    divisions = divisions_of_task(task=task)
    form = SubmissionForm(request.POST or None, request.FILES or None, divisions=divisions)
    rejected: Submission | None = None
    if request.method == "POST" and form.is_valid():
        data = SubmissionInput(
            artifact=form.cleaned_data["artifact"],
            artifact_name=form.cleaned_data["artifact"].name,
            code_archive=form.cleaned_data["code_archive"],
            method_description=form.cleaned_data["method_description"],
            code_url=form.cleaned_data["code_url"],
        )
        try:
            submission = submission_create(
                task=task, division=form.cleaned_data["division"], user=signed_in_user(request), data=data
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            if submission.status != Submission.Status.REJECTED:
                return redirect("submissions:detail", submission_id=submission.pk)
            rejected = submission
    context = {
        "challenge": challenge,
        "task": task,
        "team": team,
        "form": form,
        "rejected": rejected,
        "evaluator": task_evaluator(task),
        "quota": quota_status(task=task, team=team),
    }
    return render(request, "submissions/form.html", context, status=422 if rejected or form.errors else 200)


@require_GET
@login_required
def submission_list(request: HttpRequest) -> HttpResponse:
    submissions = selectors.submissions_of_user(user=request.user)[:200]
    return render(request, "submissions/list.html", {"submissions": submissions})


@require_GET
@login_required
def submission_detail(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = selectors.submission_get(submission_id=submission_id, user=request.user)
    status = selectors.submission_status(submission=submission, viewer=request.user)
    context = {"submission": submission, "status": status, "steps": selectors.verification_steps(status)}
    return render(request, "submissions/detail.html", context)


@require_GET
@login_required
def submission_status_json(request: HttpRequest, submission_id: int) -> JsonResponse:
    submission = selectors.submission_get(submission_id=submission_id, user=request.user)
    response = JsonResponse(selectors.submission_status(submission=submission, viewer=request.user))
    response["Cache-Control"] = "no-store"
    return response
