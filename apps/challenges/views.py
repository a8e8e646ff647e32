"""Pages of challenges and tasks. Thin: selectors read, services write."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.selectors import team_invite_by_token, teams_owned_by
from apps.challenges import selectors
from apps.challenges.evaluators import task_evaluator, task_format_notes
from apps.challenges.forms import RegistrationForm
from apps.challenges.models import Participation, Task, parse_email_domains
from apps.challenges.services import participation_approve, participation_register, participation_reject, team_join
from apps.core.archives import make_zip
from apps.core.errors import DomainError, NotFound
from apps.core.markdown import render_markdown
from apps.core.users import signed_in_user
from apps.core.zipstream import zip_stream
from evaluators.algorithm import MANIFEST_NAME, example_algorithm_dir


@require_GET
def challenge_list(request: HttpRequest) -> HttpResponse:
    challenges = selectors.challenges_listed(user=request.user)
    return render(request, "challenges/list.html", {"challenges": challenges})


@require_GET
def challenge_detail(request: HttpRequest, slug: str) -> HttpResponse:
    challenge = selectors.challenge_get(slug=slug, user=request.user)
    is_organizer = selectors.user_is_organizer(challenge=challenge, user=request.user)
    teams = list(teams_owned_by(user=request.user))
    context = {
        "challenge": challenge,
        "description_html": render_markdown(challenge.description),
        "rules_html": render_markdown(challenge.rules),
        "tasks": selectors.tasks_visible(challenge=challenge, user=request.user),
        "divisions": challenge.divisions.all(),
        "participation": selectors.participation_of(challenge=challenge, user=request.user),
        "is_organizer": is_organizer,
        "registration_form": RegistrationForm(teams=teams),
        "team_count": len(teams),
        "allowed_domains": parse_email_domains(challenge.allowed_email_domains),
        "pending_count": selectors.registrations_pending_count(challenge=challenge, user=request.user),
    }
    return render(request, "challenges/detail.html", context)


@require_POST
@login_required
def challenge_register(request: HttpRequest, slug: str) -> HttpResponse:
    challenge = selectors.challenge_get(slug=slug, user=request.user)
    user = signed_in_user(request)
    form = RegistrationForm(request.POST, teams=list(teams_owned_by(user=user)))
    if not form.is_valid():
        messages.error(request, "Choose one of the teams you own.")
        return redirect("challenges:detail", slug=challenge.slug)
    try:
        participation = participation_register(
            challenge=challenge,
            user=user,
            accept_rules=form.cleaned_data["accept_rules"],
            team=form.cleaned_data["team"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Registered as team {participation.team.name}: {participation.get_status_display()}."
        )
    return redirect("challenges:detail", slug=challenge.slug)


@require_GET
@login_required
def registration_review(request: HttpRequest, slug: str) -> HttpResponse:
    """The challenge's registrations, pending ones first, for its organizers to approve or reject."""
    challenge = selectors.challenge_get(slug=slug, user=request.user)
    participations = selectors.participations_for_review(challenge=challenge, user=request.user)
    return render(request, "challenges/registrations.html", {"challenge": challenge, "participations": participations})


@require_POST
@login_required
def registration_approve(request: HttpRequest, slug: str, participation_id: int) -> HttpResponse:
    return _decide(request, slug, participation_id, participation_approve)


@require_POST
@login_required
def registration_reject(request: HttpRequest, slug: str, participation_id: int) -> HttpResponse:
    return _decide(request, slug, participation_id, participation_reject)


def _decide(
    request: HttpRequest, slug: str, participation_id: int, decide: Callable[..., Participation]
) -> HttpResponse:
    challenge = selectors.challenge_get(slug=slug, user=request.user)
    participation = selectors.participation_for_review(
        challenge=challenge, participation_id=participation_id, user=request.user
    )
    participation = decide(participation=participation, user=signed_in_user(request))
    messages.success(request, f"Team {participation.team.name}: {participation.get_status_display().lower()}.")
    return redirect("challenges:registrations", slug=challenge.slug)


@require_http_methods(["GET", "POST"])
@login_required
def team_join_view(request: HttpRequest, token: str) -> HttpResponse:
    """An invitation link: GET shows the team and a button, POST joins it (a link followed by a mail client's
    preview or a prefetching browser must not make anyone join). Lives here, not in accounts, because joining
    is checked against the rules of the challenges the team is registered in."""
    error = ""
    if request.method == "POST":
        try:
            team = team_join(token=token, user=signed_in_user(request))
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, f"You joined team {team.name}.")
            return redirect("accounts:team", team_id=team.pk)
    try:
        invite = team_invite_by_token(token=token)
    except DomainError as exc:
        invite, error = None, error or exc.message
    context = {"invite": invite, "error": error, "token": token}
    response = render(request, "challenges/team_join.html", context, status=400 if error else 200)
    # The link's token is a credential: keep the page out of caches.
    response["Cache-Control"] = "no-store"
    return response


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
        "closed": _closed_division_card(task),
    }
    return render(request, "challenges/task.html", context)


def _closed_division_card(task: Task) -> dict[str, Any] | None:
    """What the task page tells a closed-division participant (None when no closed division takes the task):
    the divisions, the sandbox's limits, whether a concealed task is attached (never what it holds) and
    whether the benchmark ships an example algorithm."""
    # The divisions that take the task (a division listing no task takes them all), as
    # apps.divisions.selectors.divisions_of_task decides, through the reverse relation: this app sits below
    # apps.divisions and may not import it.
    takes_task = Q(tasks=task) | Q(tasks__isnull=True)
    closed = list(task.challenge.divisions.filter(takes_task, kind="closed").distinct().order_by("order", "slug"))
    if not closed:
        return None
    return {
        "divisions": closed,
        "limits": selectors.task_sandbox_limits(task=task),
        "has_concealed_task": task.has_concealed_task,
        "has_example": example_algorithm_dir(task_evaluator(task)) is not None,
        "manifest_name": MANIFEST_NAME,
    }


@require_GET
def task_algorithm_example(request: HttpRequest, slug: str, task_slug: str) -> HttpResponse:
    """The benchmark's example algorithm package as a zip, ready to submit to the closed division. Example code,
    not task data: anyone who can see the task may download it. 404 when the benchmark ships none."""
    challenge = selectors.challenge_get(slug=slug, user=request.user)
    task = selectors.task_get(challenge=challenge, slug=task_slug, user=request.user)
    folder = example_algorithm_dir(task_evaluator(task))
    if folder is None:
        raise NotFound("This benchmark has no example algorithm.")
    response = HttpResponse(_example_zip(folder), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{task.evaluator_slug}-algorithm.zip"'
    return response


def _example_zip(folder: Path) -> bytes:
    """The folder zipped with the manifest at the archive's root, without Python's bytecode caches (the
    example may have been run in place). A few kilobytes: built per request."""
    with tempfile.TemporaryDirectory(prefix="example-algorithm-") as scratch:
        clean = Path(scratch) / "algorithm"
        shutil.copytree(folder, clean, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))
        return make_zip(clean, Path(scratch) / "algorithm.zip").read_bytes()


@require_GET
def task_data_archive(request: HttpRequest, slug: str, task_slug: str) -> StreamingHttpResponse:
    """Every public file of the task in one zip, in the task directory's layout (ready for offline use)."""
    challenge = selectors.challenge_get(slug=slug, user=request.user)
    task = selectors.task_get(challenge=challenge, slug=task_slug, user=request.user)
    files = selectors.task_public_files_for_download(task=task, user=request.user)
    task_yaml = yaml.safe_dump({"benchmark": task.evaluator_slug, "config": task.participant_config}, sort_keys=False)
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
