"""Leaderboard pages and their JSON, cacheable by version (ETag, 304 when unchanged)."""

from __future__ import annotations

from dataclasses import asdict

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.challenges import selectors as challenge_selectors
from apps.challenges.models import Challenge, Task
from apps.divisions.selectors import division_of_task, divisions_of_task
from apps.leaderboards import selectors
from apps.submissions.models import Score
from evaluators import available_slugs, get_evaluator


def _task(request: HttpRequest, slug: str, task_slug: str) -> tuple[Challenge, Task]:
    challenge = challenge_selectors.challenge_get(slug=slug, user=request.user)
    return challenge, challenge_selectors.task_get(challenge=challenge, slug=task_slug, user=request.user)


@require_GET
def task_leaderboard(request: HttpRequest, slug: str, task_slug: str) -> HttpResponse:
    challenge, task = _task(request, slug, task_slug)
    division = division_of_task(task=task, slug=request.GET.get("division"))
    split = selectors.leaderboard_split(task=task, split=request.GET.get("split"), user=request.user)
    board = selectors.leaderboard_view(task=task, division=division, split=split)
    history = selectors.score_history(task=task, division=division, split=split)
    context = {
        "challenge": challenge,
        "task": task,
        "division": division,
        "divisions": divisions_of_task(task=task),
        "split": split,
        "splits": selectors.split_tabs(task=task, division=division, user=request.user),
        "board": board,
        "chart_data": {"board": asdict(board), "history": history},
    }
    return render(request, "leaderboards/task.html", context)


@require_GET
def task_leaderboard_json(request: HttpRequest, slug: str, task_slug: str) -> HttpResponse:
    _, task = _task(request, slug, task_slug)
    division = division_of_task(task=task, slug=request.GET.get("division"))
    split = selectors.leaderboard_split(task=task, split=request.GET.get("split"), user=request.user)
    version = selectors.leaderboard_version(task=task, division=division, split=split)
    etag = f'"lb-{task.pk}-{division.pk}-{split}-{version}"'
    if etag in request.headers.get("If-None-Match", ""):
        return HttpResponseNotModified(headers={"ETag": etag})
    board = selectors.leaderboard_view(task=task, division=division, split=split)
    payload = {"board": asdict(board), "history": selectors.score_history(task=task, division=division, split=split)}
    response = JsonResponse(payload)
    response["ETag"] = etag
    # The concealed board may be visible to some users only: a shared cache must not keep it.
    response["Cache-Control"] = "no-cache" if split == Score.Split.PUBLIC else "private, no-cache"
    return response


@require_GET
def benchmark_matrix(request: HttpRequest) -> HttpResponse:
    """The paper's Table 2: every benchmark type x ML task, each cell linking the tasks that fill it."""
    benchmarks = [(slug, get_evaluator(slug).title) for slug in available_slugs()]
    matrix = selectors.benchmark_matrix(
        tasks=challenge_selectors.tasks_public(user=request.user), benchmarks=benchmarks
    )
    return render(request, "leaderboards/matrix.html", {"matrix": matrix})
