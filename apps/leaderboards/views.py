"""Leaderboard pages, their JSON and CSV, the challenge board and the organizers' exports. Thin adapters over
the selectors (access rules included) and services; reads are cacheable by version (ETag, 304)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from apps.challenges import selectors as challenge_selectors
from apps.challenges.evaluators import task_primary_metric
from apps.challenges.models import Challenge, Task
from apps.core.html import embedded_json
from apps.core.users import AnyUser, signed_in_user
from apps.divisions.selectors import divisions_of_task
from apps.leaderboards import challenge_board, documents, exports, selectors
from apps.leaderboards.ranking import TIE_BREAK
from apps.submissions.awards import awards_of_challenge, awards_of_task
from apps.submissions.models import Score
from evaluators import available_slugs, get_evaluator


def _csv_response(content: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _read(request: HttpRequest, slug: str, task_slug: str) -> selectors.BoardRead:
    return selectors.board_read(
        challenge_slug=slug,
        task_slug=task_slug,
        division_slug=request.GET.get("division"),
        split=request.GET.get("split"),
        user=request.user,
    )


def _held_out_percent(task: Task, split: str, user: AnyUser) -> int | None:
    """The share of the evaluation data held out for the private board, in percent, for the public tab's note:
    only while the viewer may not see the private board. None on other tabs and for a task without a split."""
    if split != Score.Split.PUBLIC or not task.has_private_split:
        return None
    if selectors.split_visible(task=task, split=Score.Split.PRIVATE, user=user):
        return None
    # At least 1: a small fraction rounded to "0%" would deny the held-out part exists.
    return max(1, round(100 * task.private_fraction))


@require_GET
def task_leaderboard(request: HttpRequest, slug: str, task_slug: str) -> HttpResponse:
    read = _read(request, slug, task_slug)
    task, division = read.load()
    challenge = task.challenge
    primary = task_primary_metric(task)
    context = {
        "challenge": challenge,
        "task": task,
        "division": division,
        "divisions": divisions_of_task(task=task),
        "split": read.split,
        "splits": selectors.split_tabs(task=task, division=division, user=request.user),
        "primary": selectors.metric_spec_data(primary),
        # The metric as the table's heading and the charts' axes name it (with its display scale).
        "primary_title": selectors.metric_title(primary),
        "tie_break": TIE_BREAK,
        "private_rule": task.private_rule,
        "held_out_percent": _held_out_percent(task, read.split, request.user),
        # The board's document as the JSON endpoint serves it (not encoded again), for the script to draw.
        "board_json": embedded_json("leaderboard-data", documents.board_json(read)),
        "etag": read.etag(documents.BOARD),
        "is_organizer": challenge_selectors.user_is_organizer(challenge=challenge, user=request.user),
        "awards": selectors.awards_data(awards_of_task(task).filter(submission__division=division)),
    }
    return render(request, "leaderboards/task.html", context)


@require_GET
def task_leaderboard_json(request: HttpRequest, slug: str, task_slug: str) -> HttpResponse:
    """The board's JSON document (what the page polls; the API serves the same bytes)."""
    return documents.document_response(
        _read(request, slug, task_slug), documents.BOARD, if_none_match=request.headers.get("If-None-Match", "")
    )


@require_GET
def task_leaderboard_history_json(request: HttpRequest, slug: str, task_slug: str) -> HttpResponse:
    """The board's score history (the page's chart of scores over time), fetched apart from the board."""
    return documents.document_response(
        _read(request, slug, task_slug), documents.HISTORY, if_none_match=request.headers.get("If-None-Match", "")
    )


@require_GET
def task_leaderboard_csv(request: HttpRequest, slug: str, task_slug: str) -> HttpResponse:
    """The board as CSV, for whoever may see it: values unscaled, every metric of this split."""
    read = _read(request, slug, task_slug)
    task, division = read.load()
    split = read.split
    board = selectors.leaderboard_document(task=task, division=division, split=split)
    primary = board["primary"]["name"]
    metrics = [c["name"] for c in board["columns"] if c["name"] != primary]
    # The private board's rows carry their public rank (the shake-up); other splits have none.
    shake_up = ["public_rank"] if split == Score.Split.PRIVATE else []
    header = ["rank", *shake_up, "team", "label", "is_baseline", primary, *metrics, "submissions", "submitted_at"]
    rows = [
        [
            row["rank"],
            *(row[key] for key in shake_up),
            row["team"],
            row["label"],
            row["is_baseline"],
            row["primary"],
            *(row["metrics"].get(name, "") for name in metrics),
            row["submissions"],
            row["submitted_at"],
        ]
        for row in board["rows"]
    ]
    filename = f"{slug}-{task_slug}-{division.slug}-{split}-leaderboard.csv"
    response = _csv_response(exports.csv_text(header, rows), filename)
    if split != Score.Split.PUBLIC:
        response["Cache-Control"] = "private, no-cache"  # visible to some users only
    return response


def _challenge_board(request: HttpRequest, slug: str) -> tuple[Challenge, challenge_board.ChallengeBoard]:
    challenge = challenge_selectors.challenge_get(slug=slug, user=request.user)
    split = request.GET.get("split") or Score.Split.PUBLIC
    return challenge, challenge_board.challenge_leaderboard(challenge=challenge, user=request.user, split=split)


def _chosen_team(request: HttpRequest, board: challenge_board.ChallengeBoard, division: dict[str, Any]) -> int | None:
    """The team whose breakdown the page shows: `?team=`, else the viewer's team, else the leader."""
    raw = request.GET.get("team", "")
    if raw.isdigit() and any(row["team_id"] == int(raw) for row in division["rows"]):
        return int(raw)
    mine = challenge_board.viewer_team_on_board(board=board, user=request.user)
    if mine is not None and any(row["team_id"] == mine for row in division["rows"]):
        return mine
    return division["rows"][0]["team_id"] if division["rows"] else None


@require_GET
def challenge_leaderboard(request: HttpRequest, slug: str) -> HttpResponse:
    challenge, board = _challenge_board(request, slug)
    division = board.division(request.GET.get("division"))
    team_id = _chosen_team(request, board, division)
    breakdown: dict[str, Any] | None = None
    if team_id is not None:
        parts = challenge_board.board_breakdown(board, team_id)
        breakdown = next((part for part in parts if part["division"] == division["slug"]), None)
    data = {**challenge_board.board_data(board), "divisions": [division]}
    tasks = {task["id"]: task for task in board.tasks}
    context = {
        "challenge": challenge,
        "board": board,
        "division": division,
        "columns": [tasks[task_id] for task_id in division["columns"]],
        "teams": [
            {"id": row["team_id"], "name": row["team"]} for row in sorted(division["rows"], key=lambda r: r["team"])
        ],
        "splits": challenge_board.challenge_splits(challenge=challenge, user=request.user),
        "team_id": team_id,
        "breakdown": breakdown,
        "board_data": data,
        "is_organizer": challenge_selectors.user_is_organizer(challenge=challenge, user=request.user),
        "awards": selectors.awards_data(awards_of_challenge(challenge)),
    }
    return render(request, "leaderboards/challenge.html", context)


@require_GET
def challenge_leaderboard_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """The challenge board of one division as CSV, with the organizers' weights."""
    _, board = _challenge_board(request, slug)
    division = board.division(request.GET.get("division"))
    tasks = {task["id"]: task for task in board.tasks}
    columns = [tasks[task_id]["slug"] for task_id in division["columns"]]
    header = ["rank", "team", "score", *(f"{name} (normalised)" for name in columns), *columns]
    rows = [[row["rank"], row["team"], row["score"], *row["normalised"], *row["primary"]] for row in division["rows"]]
    rows = [["" if value is None else value for value in row] for row in rows]
    filename = f"{slug}-{division['slug']}-{board.split}-challenge-leaderboard.csv"
    return _csv_response(exports.csv_text(header, rows), filename)


@login_required
@require_http_methods(["GET", "POST"])
def challenge_exports(request: HttpRequest, slug: str) -> HttpResponse:
    """Organizers: request an export of every submission, and download the finished ones."""
    challenge = challenge_selectors.challenge_get(slug=slug, user=request.user)
    if request.method == "POST":
        exports.export_request(challenge=challenge, user=signed_in_user(request))
        messages.success(request, "Export requested: it appears below when it is ready (reload the page).")
        return redirect("leaderboards:exports", slug=challenge.slug)
    found = selectors.exports_of_challenge(challenge=challenge, user=request.user)
    return render(request, "leaderboards/exports.html", {"challenge": challenge, "exports": found})


@login_required
@require_GET
def export_download(request: HttpRequest, slug: str, export_id: int) -> FileResponse:
    challenge = challenge_selectors.challenge_get(slug=slug, user=request.user)
    export = selectors.export_get(challenge=challenge, export_id=export_id, user=request.user)
    name = (export.file.name or "export.csv").rsplit("/", 1)[-1]
    return FileResponse(export.file.open("rb"), as_attachment=True, filename=name, content_type="text/csv")


@require_GET
def benchmark_matrix(request: HttpRequest) -> HttpResponse:
    """The paper's Table 2: every benchmark type x ML task, each cell linking the tasks that fill it."""
    benchmarks = [(slug, get_evaluator(slug).title) for slug in available_slugs()]
    matrix = selectors.benchmark_matrix(
        tasks=challenge_selectors.tasks_public(user=request.user), benchmarks=benchmarks
    )
    return render(request, "leaderboards/matrix.html", {"matrix": matrix})
