"""Reads of leaderboards and their chart data, as plain lists and dicts (pages, JSON and API share them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, QuerySet

from apps.challenges.evaluation import task_metric_specs, task_primary_metric
from apps.challenges.models import Task
from apps.challenges.selectors import user_is_organizer
from apps.core.errors import NotFound
from apps.core.users import AnyUser
from apps.divisions.models import Division
from apps.leaderboards.models import Leaderboard, LeaderboardEntry
from apps.submissions.models import Score, Submission
from apps.submissions.selectors import concealed_scores_visible
from evaluators import MetricSpec


@dataclass(frozen=True)
class LeaderboardView:
    version: int
    rebuilt_at: str | None
    primary: dict[str, Any]
    columns: list[dict[str, Any]]
    rows: list[dict[str, Any]]


def split_visible(*, task: Task, split: str, user: AnyUser) -> bool:
    """Whether the user may see the task's leaderboards of this split: the public one always; the concealed
    one when the task has a concealed task, as `task.concealed_visibility` says (organizers always); the
    private one only organizers (and staff), for now."""
    if split == Score.Split.PUBLIC:
        return True
    if split == Score.Split.CONCEALED:
        return task.has_concealed_task and concealed_scores_visible(task=task, viewer=user)
    if split == Score.Split.PRIVATE:
        return user_is_organizer(challenge=task.challenge, user=user)
    return False


def leaderboard_split(*, task: Task, split: str | None, user: AnyUser) -> str:
    """The split a request names (the public one when it names none). Raises `NotFound` for an unknown split
    and for one the user may not see (the two are indistinguishable)."""
    chosen = split or Score.Split.PUBLIC
    if chosen not in Score.Split.values or not split_visible(task=task, split=chosen, user=user):
        raise NotFound("No such leaderboard.")
    return chosen


def split_tabs(*, task: Task, division: Division, user: AnyUser) -> list[dict[str, str]]:
    """The splits a leaderboard page links to (value, label): public, and concealed in a division that reruns
    code when the task has a concealed task the user may see. Empty when public is the only one."""
    if not (division.requires_code and split_visible(task=task, split=Score.Split.CONCEALED, user=user)):
        return []
    splits = (Score.Split.PUBLIC, Score.Split.CONCEALED)
    return [{"value": str(split.value), "label": str(split.label)} for split in splits]


def leaderboard_version(*, task: Task, division: Division, split: str = Score.Split.PUBLIC) -> int:
    found = Leaderboard.objects.filter(task=task, division=division, split=split).values_list("version", flat=True)
    return found.first() or 0


def metric_spec_data(spec: MetricSpec) -> dict[str, Any]:
    """A metric's name, label, direction, display scale and column flag, as pages and the API show them."""
    return {
        "name": spec.name,
        "label": spec.label,
        "higher_is_better": spec.higher_is_better,
        "scale": spec.display_scale,
        "column": spec.leaderboard_column,
    }


def leaderboard_view(*, task: Task, division: Division, split: str = Score.Split.PUBLIC) -> LeaderboardView:
    """The ranked rows of a leaderboard: rank, team, primary and every metric, baselines marked."""
    primary = task_primary_metric(task)
    columns = [metric_spec_data(spec) for spec in task_metric_specs(task)]
    leaderboard = Leaderboard.objects.filter(task=task, division=division, split=split).first()
    if leaderboard is None:
        return LeaderboardView(0, None, metric_spec_data(primary), columns, [])
    rows = [
        {
            "rank": entry.rank,
            "team": entry.team.name,
            # A baseline is named by its method (several baselines come from one organizer team).
            "label": entry.submission.method_description[:80] if entry.is_baseline else entry.team.name,
            "submission_id": entry.submission_id,
            "primary": entry.primary,
            "metrics": entry.metrics,
            "is_baseline": entry.is_baseline,
            "submitted_at": entry.submitted_at.isoformat(),
            "submissions": entry.submission_count,
        }
        for entry in leaderboard.entries.select_related("team", "submission").order_by("rank", "submitted_at")
    ]
    rebuilt = leaderboard.rebuilt_at.isoformat() if leaderboard.rebuilt_at else None
    return LeaderboardView(leaderboard.version, rebuilt, metric_spec_data(primary), columns, rows)


def score_history(*, task: Task, division: Division, split: str = Score.Split.PUBLIC) -> list[dict[str, Any]]:
    """Every ranked submission's primary score over time, oldest first, with the best-so-far value."""
    primary = task_primary_metric(task)
    scores = (
        Score.objects.filter(
            split=split,
            metric=primary.name,
            evaluation__submission__task=task,
            evaluation__submission__division=division,
            evaluation__submission__is_withdrawn=False,
            evaluation__submission__is_disqualified=False,
        )
        .filter(evaluation__submission__current_evaluation=F("evaluation"))
        .values_list(
            "value",
            "evaluation__submission__created_at",
            "evaluation__submission__team__name",
            "evaluation__submission__is_baseline",
        )
        .order_by("evaluation__submission__created_at")
    )
    best: float | None = None
    history = []
    for value, created_at, team, is_baseline in scores:
        if not is_baseline:
            improved = best is None or (value > best if primary.higher_is_better else value < best)
            best = value if improved else best
        history.append(
            {"t": created_at.isoformat(), "value": value, "team": team, "baseline": is_baseline, "best": best}
        )
    return history


@dataclass(frozen=True)
class MatrixCell:
    tasks: list[dict[str, Any]]


@dataclass(frozen=True)
class BenchmarkMatrix:
    """The paper's Table 2: benchmark types (rows) x ML tasks (columns); each cell lists the public tasks."""

    columns: list[tuple[str, str]]
    rows: list[tuple[str, str, list[MatrixCell]]]


def _leaders(task_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The best non-baseline entry of each task's public leaderboards (the first division that has one)."""
    entries = (
        LeaderboardEntry.objects.filter(
            leaderboard__task_id__in=task_ids, leaderboard__split=Score.Split.PUBLIC, is_baseline=False, rank=1
        )
        .select_related("team", "leaderboard__division")
        .order_by("leaderboard__division__order", "submitted_at")
    )
    leaders: dict[int, dict[str, Any]] = {}
    for entry in entries:
        leaders.setdefault(entry.leaderboard.task_id, {"team": entry.team.name, "primary": entry.primary})
    return leaders


def benchmark_matrix(*, tasks: QuerySet[Task], benchmarks: list[tuple[str, str]]) -> BenchmarkMatrix:
    """Fill the matrix from `tasks` (the caller decides which are visible) for the given (slug, title) rows."""
    task_list = list(tasks.select_related("challenge"))
    ids = [task.pk for task in task_list]
    leaders = _leaders(ids)
    counts = dict(
        Submission.objects.filter(task_id__in=ids, is_baseline=False)
        .values_list("task_id")
        .annotate(n=Count("pk"))
        .values_list("task_id", "n")
    )
    columns = list(Task.MLTask.choices)
    rows = []
    for slug, title in benchmarks:
        cells = []
        for ml_task, _ in columns:
            cells.append(
                MatrixCell(
                    [
                        {"task": t, "leader": leaders.get(t.pk), "submissions": counts.get(t.pk, 0)}
                        for t in task_list
                        if t.evaluator_slug == slug and t.ml_task == ml_task
                    ]
                )
            )
        rows.append((slug, title, cells))
    return BenchmarkMatrix(columns=[(str(v), str(label)) for v, label in columns], rows=rows)
