"""Reads of leaderboards and their chart data, as plain lists and dicts (pages, JSON and API share them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import F

from apps.challenges.evaluation import task_metric_specs, task_primary_metric
from apps.challenges.models import Task
from apps.divisions.models import Division
from apps.leaderboards.models import Leaderboard
from apps.submissions.models import Score


@dataclass(frozen=True)
class LeaderboardView:
    version: int
    rebuilt_at: str | None
    primary: dict[str, Any]
    columns: list[dict[str, Any]]
    rows: list[dict[str, Any]]


def leaderboard_version(*, task: Task, division: Division, split: str = Score.Split.PUBLIC) -> int:
    found = Leaderboard.objects.filter(task=task, division=division, split=split).values_list("version", flat=True)
    return found.first() or 0


def _spec_dict(spec: Any) -> dict[str, Any]:
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
    columns = [_spec_dict(spec) for spec in task_metric_specs(task)]
    leaderboard = Leaderboard.objects.filter(task=task, division=division, split=split).first()
    if leaderboard is None:
        return LeaderboardView(0, None, _spec_dict(primary), columns, [])
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
    return LeaderboardView(leaderboard.version, rebuilt, _spec_dict(primary), columns, rows)


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
