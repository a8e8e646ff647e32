"""Rebuilding a leaderboard from immutable scores. A leaderboard is a pure function of the scores of current
evaluations, the submissions' flags and the task's ranking rule; a rebuild recomputes it from scratch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.challenges.evaluation import task_primary_metric
from apps.challenges.models import Task
from apps.divisions.models import Division
from apps.leaderboards.models import Leaderboard, LeaderboardEntry
from apps.submissions.models import Score, Submission


@dataclass
class _Candidate:
    submission_id: int
    team_id: int
    is_baseline: bool
    submitted_at: Any
    primary: float
    metrics: dict[str, float]
    is_selected_final: bool = False


def _locked_leaderboard(task: Task, division: Division, split: str) -> Leaderboard:
    try:
        with transaction.atomic():
            Leaderboard.objects.get_or_create(task=task, division=division, split=split)
    except IntegrityError:
        pass  # created by a concurrent rebuild between our read and insert; the lock below serialises us
    return Leaderboard.objects.select_for_update().get(task=task, division=division, split=split)


def _candidates(task: Task, division: Division, split: str, primary_name: str) -> list[_Candidate]:
    # A rescore can end `rejected` (a rule now catches it): such a submission no longer ranks.
    submissions = (
        Submission.objects.filter(
            task=task, division=division, is_withdrawn=False, is_disqualified=False, current_evaluation__isnull=False
        )
        .exclude(status__in=[Submission.Status.REJECTED, Submission.Status.CANCELLED])
        .values("pk", "team_id", "is_baseline", "created_at", "current_evaluation_id", "is_selected_final")
    )
    by_evaluation = {row["current_evaluation_id"]: row for row in submissions}
    metrics: dict[int, dict[str, float]] = {}
    scores = Score.objects.filter(evaluation_id__in=list(by_evaluation), split=split)
    for evaluation_id, metric, value in scores.values_list("evaluation_id", "metric", "value"):
        metrics.setdefault(evaluation_id, {})[metric] = value
    return [
        _Candidate(
            submission_id=row["pk"],
            team_id=row["team_id"],
            is_baseline=row["is_baseline"],
            submitted_at=row["created_at"],
            primary=values[primary_name],
            metrics=values,
            is_selected_final=row["is_selected_final"],
        )
        for evaluation_id, row in by_evaluation.items()
        if primary_name in (values := metrics.get(evaluation_id, {}))
    ]


def _representatives(candidates: list[_Candidate]) -> list[_Candidate]:
    """Under the selected-final rule: a team with a ranked selected submission is represented by it alone;
    a team that selected none (or whose selection has no score on this split yet) competes with all its
    submissions, so its best one represents it. Baselines are unaffected."""
    selected_teams = {c.team_id for c in candidates if c.is_selected_final and not c.is_baseline}
    return [c for c in candidates if c.is_baseline or c.team_id not in selected_teams or c.is_selected_final]


def rank_candidates(
    candidates: list[_Candidate], *, higher_is_better: bool, selected_final: bool = False
) -> list[tuple[int, _Candidate, int]]:
    """(rank, candidate, submissions of its team): one row per team (its best; on equal scores its earliest
    submission; under the `selected_final` rule its selected submission, see `_representatives`), each
    baseline on its own row; equal scores share a rank (1, 2, 2, 4). The count is every ranked submission of
    the team, whichever represents it."""
    sign = -1.0 if higher_is_better else 1.0
    counts: dict[int, int] = {}
    for candidate in candidates:
        if not candidate.is_baseline:
            counts[candidate.team_id] = counts.get(candidate.team_id, 0) + 1
    if selected_final:
        candidates = _representatives(candidates)
    order = sorted(candidates, key=lambda c: (sign * c.primary, c.submitted_at, c.submission_id))
    seen: set[int] = set()
    rows: list[tuple[int, _Candidate, int]] = []
    for candidate in order:
        if not candidate.is_baseline:
            if candidate.team_id in seen:
                continue
            seen.add(candidate.team_id)
        rank = rows[-1][0] if rows and rows[-1][1].primary == candidate.primary else len(rows) + 1
        rows.append((rank, candidate, 1 if candidate.is_baseline else counts[candidate.team_id]))
    return rows


def leaderboard_rebuild(*, task: Task, division: Division, split: str = Score.Split.PUBLIC) -> Leaderboard:
    """Recompute the leaderboard's entries from scratch and bump its version. Serialised per leaderboard by a
    row lock; call it inside the transaction that changed what it depends on."""
    primary = task_primary_metric(task)
    with transaction.atomic():
        leaderboard = _locked_leaderboard(task, division, split)
        rows = rank_candidates(
            _candidates(task, division, split, primary.name),
            higher_is_better=primary.higher_is_better,
            selected_final=task.ranking_rule == Task.RankingRule.SELECTED_FINAL,
        )
        leaderboard.entries.all().delete()
        LeaderboardEntry.objects.bulk_create(
            LeaderboardEntry(
                leaderboard=leaderboard,
                team_id=c.team_id,
                submission_id=c.submission_id,
                rank=rank,
                primary=c.primary,
                metrics=c.metrics,
                is_baseline=c.is_baseline,
                submitted_at=c.submitted_at,
                submission_count=count,
            )
            for rank, c, count in rows
        )
        Leaderboard.objects.filter(pk=leaderboard.pk).update(version=F("version") + 1, rebuilt_at=timezone.now())
        leaderboard.refresh_from_db()
    return leaderboard


def leaderboards_rebuild_for_task(*, task: Task) -> int:
    """Rebuild every leaderboard of the task (after a rule, data or flag change). Returns how many."""
    divisions = Division.objects.filter(challenge_id=task.challenge_id)
    for division in divisions:
        leaderboard_rebuild(task=task, division=division)
    return len(divisions)
