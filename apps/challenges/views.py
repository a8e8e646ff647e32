"""Pages of challenges and tasks. Thin: selectors read, services write."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.challenges import selectors
from apps.challenges.evaluation import task_evaluator, task_format_notes
from apps.challenges.services import participation_register
from apps.core.errors import DomainError
from apps.core.markdown import render_markdown
from apps.core.users import signed_in_user
from apps.core.zipstream import zip_stream


@require_GET
def challenge_list(request: HttpRequest) -> HttpResponse:
    challenges = selectors.challenges_listed(user=request.user)
    return render(request, "challenges/list.html", {"challenges": challenges})


@require_GET
def challenge_detail(request: HttpRequest, slug: str) -> HttpResponse:
    challenge = selectors.challenge_get(slug=slug, user=request.user)
    context = {
        "challenge": challenge,
        "description_html": render_markdown(challenge.description),
        "rules_html": render_markdown(challenge.rules),
        "tasks": selectors.tasks_visible(challenge=challenge, user=request.user),
        "divisions": challenge.divisions.all(),
        "participation": selectors.participation_of(challenge=challenge, user=request.user),
        "is_organizer": selectors.user_is_organizer(challenge=challenge, user=request.user),
    }
    return render(request, "challenges/detail.html", context)


@require_POST
@login_required
def challenge_register(request: HttpRequest, slug: str) -> HttpResponse:
    challenge = selectors.challenge_get(slug=slug, user=request.user)
    try:
        participation = participation_register(
            challenge=challenge, user=signed_in_user(request), accept_rules=request.POST.get("accept_rules") == "on"
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Registered as team {participation.team.name}: {participation.get_status_display()}."
        )
    return redirect("challenges:detail", slug=challenge.slug)


@require_GET
def task_detail(request: HttpRequest, slug: str, task_slug: str) -> HttpResponse:
    challenge = selectors.challenge_get(slug=slug, user=request.user)
    task = selectors.task_get(challenge=challenge, slug=task_slug, user=request.user)
    participation = selectors.participation_of(challenge=challenge, user=request.user)
    is_organizer = selectors.user_is_organizer(challenge=challenge, user=request.user)
    context = {
        "challenge": challenge,
        "task": task,
        "evaluator": task_evaluator(task),
        "description_html": render_markdown(task.description),
        "format_html": render_markdown(task_format_notes(task)),
        "participation": participation,
        "can_download": is_organizer or (participation is not None and participation.status == "approved"),
        "public_files": selectors.task_public_files(task=task),
    }
    return render(request, "challenges/task.html", context)


@require_GET
def task_data_archive(request: HttpRequest, slug: str, task_slug: str) -> StreamingHttpResponse:
    """Every public file of the task in one zip, in the task directory's layout (ready for offline use)."""
    challenge = selectors.challenge_get(slug=slug, user=request.user)
    task = selectors.task_get(challenge=challenge, slug=task_slug, user=request.user)
    files = selectors.task_public_files_for_download(task=task, user=request.user)
    task_yaml = yaml.safe_dump({"benchmark": task.evaluator_slug, "config": task.config}, sort_keys=False)
    members: list[tuple[str, Path | bytes]] = [(f"{task.slug}/task.yaml", task_yaml.encode())]
    members += [(f"{task.slug}/{data_file.relative_path}", Path(data_file.file.path)) for data_file in files]
    response = StreamingHttpResponse(zip_stream(members), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{task.slug}-public.zip"'
    return response


@require_GET
def task_data_download(request: HttpRequest, slug: str, task_slug: str, file_id: int) -> FileResponse:
    challenge = selectors.challenge_get(slug=slug, user=request.user)
    task = selectors.task_get(challenge=challenge, slug=task_slug, user=request.user)
    data_file = selectors.task_public_file_for_download(task=task, file_id=file_id, user=request.user)
    name = data_file.relative_path.replace("/", "__")
    response = FileResponse(data_file.file.open("rb"), as_attachment=True, filename=name)
    response["X-Content-SHA256"] = data_file.sha256
    return response
