"""Submission pages: the form, "my submissions", the detail page and its live status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from apps.accounts.models import Team
from apps.challenges import selectors as challenge_selectors
from apps.challenges.evaluators import task_evaluator
from apps.challenges.models import Challenge, Task
from apps.core.errors import DomainError
from apps.core.uploads import UploadTooLarge, limit_uploads
from apps.core.users import signed_in_user
from apps.divisions.selectors import divisions_of_task
from apps.submissions import selectors
from apps.submissions.forms import SubmissionForm
from apps.submissions.models import Submission
from apps.submissions.services.intake import SubmissionInput, submission_create
from apps.submissions.services.quotas import quota_status


@csrf_exempt  # the CSRF check reads the body: it runs in `_submission_post`, once the upload limit is in place
@require_http_methods(["GET", "POST"])
@login_required
def submission_new(request: HttpRequest, slug: str, task_slug: str) -> HttpResponse:
    challenge = challenge_selectors.challenge_get(slug=slug, user=request.user)
    task = challenge_selectors.task_get(challenge=challenge, slug=task_slug, user=request.user)
    team = challenge_selectors.competing_team(challenge=challenge, user=request.user)
    page = _FormPage(challenge=challenge, task=task, team=team)
    if request.method != "POST":
        return page.render(request, page.form())
    # Before anything reads the body: an upload over the task's limit is refused by its Content-Length, or
    # stopped as it streams in, instead of being stored whole first (an artifact and a code archive).
    limit_uploads(
        request, max_file_bytes=task.max_upload_bytes, max_files=2, what="submission file", accepted_by="this task"
    )
    try:
        return _submission_post(request, page)
    except UploadTooLarge as exc:
        return page.render(request, page.refused(exc.message), status=413)


@csrf_protect
def _submission_post(request: HttpRequest, page: _FormPage) -> HttpResponse:
    form = page.form(request.POST or None, request.FILES or None)
    rejected: Submission | None = None
    if form.is_valid():
        data = SubmissionInput(
            artifact=form.cleaned_data["artifact"],
            artifact_name=form.cleaned_data["artifact"].name,
            code_archive=form.cleaned_data["code_archive"],
            method_description=form.cleaned_data["method_description"],
            code_url=form.cleaned_data["code_url"],
        )
        try:
            submission = submission_create(
                task=page.task, division=form.cleaned_data["division"], user=signed_in_user(request), data=data
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            if submission.status != Submission.Status.REJECTED:
                return redirect("submissions:detail", submission_id=submission.pk)
            rejected = submission
    return page.render(request, form, rejected=rejected)


@dataclass(frozen=True)
class _FormPage:
    """The submission form's page of one task, for one team."""

    challenge: Challenge
    task: Task
    team: Team

    def form(self, data: Any = None, files: Any = None) -> SubmissionForm:
        return SubmissionForm(data, files, divisions=divisions_of_task(task=self.task))

    def refused(self, message: str) -> SubmissionForm:
        """An empty form saying why the upload was refused (its body was not read: there is nothing to clean)."""
        form = self.form()
        form.cleaned_data = {}  # what `add_error` expects of a form that was cleaned
        form.add_error(None, message)
        return form

    def render(
        self, request: HttpRequest, form: SubmissionForm, *, rejected: Submission | None = None, status: int = 0
    ) -> HttpResponse:
        context = {
            "challenge": self.challenge,
            "task": self.task,
            "team": self.team,
            "form": form,
            "rejected": rejected,
            "evaluator": task_evaluator(self.task),
            "quota": quota_status(task=self.task, team=self.team),
        }
        status = status or (422 if rejected or form.errors else 200)
        return render(request, "submissions/form.html", context, status=status)


@require_GET
@login_required
def submission_list(request: HttpRequest) -> HttpResponse:
    submissions = list(selectors.submissions_of_user(user=request.user)[:200])
    context = {"submissions": submissions, "finals": selectors.final_selections_of(submissions=submissions)}
    return render(request, "submissions/list.html", context)


@require_GET
@login_required
def submission_detail(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = selectors.submission_get(submission_id=submission_id, user=request.user)
    status = selectors.submission_status(submission=submission, viewer=request.user)
    task = submission.task
    context = {
        "submission": submission,
        "task": task,
        "status": status,
        "steps": selectors.verification_steps(status),
        "choices": selectors.submission_choices(submission=submission, viewer=request.user),
        # The private part's scores exist but this viewer waits for the end of the challenge to see them.
        "private_pending": task.has_private_split
        and not selectors.private_scores_visible(task=task, viewer=request.user),
    }
    return render(request, "submissions/detail.html", context)


@require_GET
@login_required
def submission_status_json(request: HttpRequest, submission_id: int) -> JsonResponse:
    submission = selectors.submission_get(submission_id=submission_id, user=request.user)
    response = JsonResponse(selectors.submission_status(submission=submission, viewer=request.user))
    response["Cache-Control"] = "no-store"
    return response
