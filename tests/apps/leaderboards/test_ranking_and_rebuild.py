"""Ranking and rebuilding leaderboards from immutable scores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from apps.challenges.models import Challenge, Task
from apps.challenges.services import participation_register
from apps.divisions.models import Division
from apps.jobs.pipeline import evaluate_and_rank
from apps.leaderboards.models import Leaderboard
from apps.leaderboards.ranking import Candidate, rank_candidates
from apps.leaderboards.services import leaderboard_rebuild
from apps.submissions.models import Score, Submission
from tests.apps.conftest import PRIMARY, make_scored_submission
from tests.conftest import make_user

Selections = dict[str, dict[str, Any]]
T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
Row = tuple[int, int, int]


def _candidate(
    submission_id: int, team_id: int, primary: float, *, minute: int = 0, baseline: bool = False
) -> Candidate:
    return Candidate(
        submission_id=submission_id,
        team_id=team_id,
        is_baseline=baseline,
        submitted_at=T0 + dt.timedelta(minutes=minute),
        primary=primary,
        metrics={PRIMARY: primary},
    )


def _ranked(candidates: list[Candidate], *, higher_is_better: bool = True) -> list[Row]:
    """(rank, submission id, submissions of its team) per row, in order."""
    return [
        (rank, c.submission_id, count)
        for rank, c, count in rank_candidates(candidates, higher_is_better=higher_is_better)
    ]


def test_equal_scores_share_a_rank_and_the_next_rank_skips() -> None:
    candidates = [
        _candidate(1, 10, 0.9),
        _candidate(2, 20, 0.8),
        _candidate(3, 30, 0.8, minute=1),
        _candidate(4, 40, 0.7),
    ]

    assert [rank for rank, _, _ in _ranked(candidates)] == [1, 2, 2, 4]


def test_a_team_gets_one_row_with_its_best_submission() -> None:
    candidates = [
        _candidate(1, 10, 0.5),
        _candidate(2, 10, 0.9, minute=1),
        _candidate(3, 20, 0.7),
        _candidate(4, 10, 0.6),
    ]

    assert _ranked(candidates) == [(1, 2, 3), (2, 3, 1)]


def test_a_teams_earliest_submission_represents_it_on_equal_scores() -> None:
    candidates = [_candidate(7, 10, 0.8, minute=5), _candidate(8, 10, 0.8, minute=1), _candidate(9, 10, 0.8, minute=3)]

    assert _ranked(candidates) == [(1, 8, 3)]


def test_the_earlier_team_is_listed_first_among_equal_scores() -> None:
    candidates = [_candidate(1, 10, 0.8, minute=9), _candidate(2, 20, 0.8, minute=2)]

    assert _ranked(candidates) == [(1, 2, 1), (1, 1, 1)]


def test_each_baseline_has_its_own_row_even_from_one_team() -> None:
    candidates = [
        _candidate(1, 99, 0.6, baseline=True),
        _candidate(2, 99, 0.4, baseline=True, minute=1),
        _candidate(3, 10, 0.5),
    ]

    assert [(rank, sid) for rank, sid, _ in _ranked(candidates)] == [(1, 1), (2, 3), (3, 2)]


def test_a_lower_is_better_metric_ranks_the_smallest_value_first() -> None:
    candidates = [_candidate(1, 10, 0.3), _candidate(2, 20, 0.1), _candidate(3, 30, 0.2), _candidate(4, 10, 0.05)]

    assert [(rank, sid) for rank, sid, _ in _ranked(candidates, higher_is_better=False)] == [(1, 4), (2, 2), (3, 3)]


@pytest.mark.django_db
def test_a_rebuild_ranks_the_current_evaluations_of_the_division(
    speech_task: Task, open_division: Division, registered: User, other_participant: User
) -> None:
    low = make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.4)
    high = make_scored_submission(task=speech_task, division=open_division, user=other_participant, primary=0.6)

    leaderboard = leaderboard_rebuild(task=speech_task, division=open_division)

    rows = list(leaderboard.entries.values_list("rank", "submission_id", "primary"))
    assert rows == [(1, high.pk, 0.6), (2, low.pk, 0.4)]


@pytest.mark.django_db
def test_a_rebuild_leaves_out_withdrawn_and_disqualified_submissions(
    speech_task: Task, open_division: Division, registered: User, other_participant: User
) -> None:
    best = make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.9)
    kept = make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.5)
    cheat = make_scored_submission(task=speech_task, division=open_division, user=other_participant, primary=0.95)
    leaderboard_rebuild(task=speech_task, division=open_division)
    Submission.objects.filter(pk=best.pk).update(is_withdrawn=True)
    Submission.objects.filter(pk=cheat.pk).update(is_disqualified=True)

    leaderboard = leaderboard_rebuild(task=speech_task, division=open_division)

    assert list(leaderboard.entries.values_list("rank", "submission_id", "submission_count")) == [(1, kept.pk, 1)]


@pytest.mark.django_db
def test_a_rebuild_leaves_out_other_divisions_and_unscored_submissions(
    speech_task: Task, open_division: Division, closed_division: Division, registered: User
) -> None:
    make_scored_submission(task=speech_task, division=closed_division, user=registered, primary=0.9)
    unscored = make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.8)
    Submission.objects.filter(pk=unscored.pk).update(current_evaluation=None, status=Submission.Status.QUEUED)

    leaderboard = leaderboard_rebuild(task=speech_task, division=open_division)

    assert not leaderboard.entries.exists()


@pytest.mark.django_db
def test_every_rebuild_bumps_the_version(speech_task: Task, open_division: Division, registered: User) -> None:
    make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.4)

    versions = [leaderboard_rebuild(task=speech_task, division=open_division).version for _ in range(3)]

    assert versions == [1, 2, 3]
    assert Leaderboard.objects.get().version == 3


def _table(leaderboard: Leaderboard) -> list[tuple[Any, ...]]:
    columns = ("rank", "submission_id", "primary", "is_baseline", "submission_count")
    return list(leaderboard.entries.order_by("rank", "submitted_at").values_list(*columns))


def _from_scratch(task: Task, division: Division) -> list[tuple[int, int, float, bool, int]]:
    """The expected table, computed here independently of the service: per team its best current score
    (earliest on equal scores), each baseline alone, equal scores sharing a rank."""
    submissions = Submission.objects.filter(task=task, division=division, current_evaluation__isnull=False)
    scored = [
        (
            Score.objects.get(evaluation=s.current_evaluation, metric=PRIMARY).value,
            s.created_at,
            s.pk,
            s.team_id,
            s.is_baseline,
        )
        for s in submissions
    ]
    scored.sort(key=lambda row: (-row[0], row[1], row[2]))
    counts: dict[int, int] = {}
    for _, _, _, team_id, baseline in scored:
        if not baseline:
            counts[team_id] = counts.get(team_id, 0) + 1
    rows: list[tuple[int, int, float, bool, int]] = []
    seen: set[int] = set()
    for value, _, pk, team_id, baseline in scored:
        if not baseline:
            if team_id in seen:
                continue
            seen.add(team_id)
        tied = [rank for rank, _, v, _, _ in rows if v == value]
        rows.append((tied[0] if tied else len(rows) + 1, pk, value, baseline, 1 if baseline else counts[team_id]))
    return rows


@pytest.mark.django_db
def test_the_table_rebuilt_after_each_score_equals_one_computed_from_scratch(
    submit: Callable[..., Submission],
    challenge: Challenge,
    speech_task: Task,
    open_division: Division,
    organizer: User,
    registered: User,
    other_participant: User,
    speech_selections: Selections,
) -> None:
    carol = make_user("carol")
    for user in (other_participant, carol):
        participation_register(challenge=challenge, user=user, accept_rules=True)
    plan = [
        (registered, "random", False),
        (other_participant, "first-k", False),
        (registered, "random-balanced", False),
        (carol, "first-k", False),
        (organizer, "random", True),
    ]
    for minute, (user, name, baseline) in enumerate(plan):
        submission = submit(user, speech_selections[name], as_baseline=baseline)
        Submission.objects.filter(pk=submission.pk).update(created_at=timezone.now() + dt.timedelta(minutes=minute))
        assert evaluate_and_rank(submission_id=submission.pk) == "scored"

    incremental = _table(Leaderboard.objects.get(task=speech_task, division=open_division))
    assert incremental == _from_scratch(speech_task, open_division)
    assert len(incremental) == 4
    rebuilt = leaderboard_rebuild(task=speech_task, division=open_division)
    assert _table(rebuilt) == incremental
    assert rebuilt.version == len(plan) + 1
