"""The private board's rule (Kaggle's): each team by the best private score among the submissions it selected as
final; a team that selected none, by the best private score among its N best public ones. Each row carries its
public rank (the shake-up). Edge cases: none selected, a selection withdrawn or disqualified, N lowered."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from apps.challenges.models import Task
from apps.divisions.models import Division
from apps.jobs.pipeline import submission_select_final_and_rank, submission_withdraw_and_rank
from apps.leaderboards.models import Leaderboard
from apps.leaderboards.ranking import Candidate, _final_choices, rank_candidates
from apps.leaderboards.selectors import leaderboard_view, leaderboard_view_from_scratch
from apps.leaderboards.services import leaderboards_rebuild_for_task
from apps.submissions.models import Submission
from tests.apps.conftest import make_scored_submission
from tests.apps.leaderboards.conftest import add_private_score

pytestmark = pytest.mark.django_db
T0 = timezone.now() - dt.timedelta(days=1)


def _candidate(pk: int, team: int, private: float, *, final: bool = False, baseline: bool = False) -> Candidate:
    return Candidate(pk, team, baseline, T0 + dt.timedelta(minutes=pk), private, {"m": private}, final)


def _private_rows(
    candidates: list[Candidate], public: dict[int, float], allowed: int = 2
) -> list[tuple[int, int, int]]:
    ranked = rank_candidates(
        candidates,
        higher_is_better=True,
        competing=lambda found: _final_choices(found, public=public, allowed=allowed, higher_is_better=True),
    )
    return [(rank, c.submission_id, count) for rank, c, count in ranked]


def test_a_team_is_ranked_by_its_best_selected_submission_not_its_best_overall() -> None:
    candidates = [
        _candidate(1, 10, 0.50, final=True),
        _candidate(2, 10, 0.60, final=True),
        _candidate(3, 10, 0.99),  # its best private score, but not selected
        _candidate(4, 20, 0.55),
    ]
    public = {1: 0.7, 2: 0.6, 3: 0.1, 4: 0.8}

    assert _private_rows(candidates, public) == [(1, 2, 3), (2, 4, 1)]


def test_a_team_that_selected_none_competes_with_its_n_best_public_submissions() -> None:
    # Public order of team 10: 3 (0.9), 1 (0.8), 2 (0.2). With N = 2, submission 2 does not compete.
    candidates = [_candidate(1, 10, 0.40), _candidate(2, 10, 0.95), _candidate(3, 10, 0.30)]
    public = {1: 0.8, 2: 0.2, 3: 0.9}

    assert _private_rows(candidates, public) == [(1, 1, 3)]
    assert _private_rows(candidates, public, allowed=3) == [(1, 2, 3)]
    assert _private_rows(candidates, public, allowed=1) == [(1, 3, 3)]


def test_equal_public_scores_go_to_the_earlier_submission() -> None:
    candidates = [_candidate(1, 10, 0.2), _candidate(2, 10, 0.9)]

    assert _private_rows(candidates, {1: 0.5, 2: 0.5}, allowed=1) == [(1, 1, 2)]


def test_more_selections_than_allowed_count_the_best_public_ones() -> None:
    candidates = [_candidate(1, 10, 0.9, final=True), _candidate(2, 10, 0.1, final=True)]

    assert _private_rows(candidates, {1: 0.2, 2: 0.8}, allowed=1) == [(1, 2, 2)]


def test_baselines_keep_their_own_rows() -> None:
    candidates = [_candidate(1, 99, 0.3, baseline=True), _candidate(2, 99, 0.4, baseline=True), _candidate(3, 10, 0.5)]

    assert _private_rows(candidates, {1: 0.9, 2: 0.9, 3: 0.1}, allowed=1) == [(1, 3, 1), (2, 2, 1), (3, 1, 1)]


# The same rule on the materialised boards, through the services a team uses.


def _scored(task: Task, division: Division, user: User, public: float, private: float, minute: int) -> Submission:
    submission = make_scored_submission(
        task=task, division=division, user=user, primary=public, created_at=T0 + dt.timedelta(minutes=minute)
    )
    add_private_score(submission, private)
    return submission


@pytest.fixture
def split_task(speech_task: Task) -> Task:
    speech_task.config = {**speech_task.config, "private_fraction": 0.5, "split_seed": 12345}
    speech_task.save(update_fields=["config"])
    return speech_task


def _board(task: Task, division: Division, split: str) -> list[tuple[int, int, int | None]]:
    view = leaderboard_view(task=task, division=division, split=split)
    assert view.rows == leaderboard_view_from_scratch(task=task, division=division, split=split).rows
    return [(row["rank"], row["submission_id"], row["public_rank"]) for row in view.rows]


def test_the_private_board_follows_selections_and_shows_the_shake_up(
    split_task: Task, open_division: Division, registered: User, other_participant: User
) -> None:
    alice_lucky = _scored(split_task, open_division, registered, public=0.9, private=0.1, minute=1)
    alice_solid = _scored(split_task, open_division, registered, public=0.5, private=0.8, minute=2)
    bob_only = _scored(split_task, open_division, other_participant, public=0.7, private=0.6, minute=3)
    leaderboards_rebuild_for_task(task=split_task)

    # Nobody selected: each team's 2 best public submissions compete (all of them here).
    assert _board(split_task, open_division, "public") == [(1, alice_lucky.pk, None), (2, bob_only.pk, None)]
    assert _board(split_task, open_division, "private") == [(1, alice_solid.pk, 1), (2, bob_only.pk, 2)]

    # Alice selects her lucky one only: her private row is its private score, and she falls below Bob.
    submission_select_final_and_rank(submission=alice_lucky, user=registered)
    assert _board(split_task, open_division, "private") == [(1, bob_only.pk, 2), (2, alice_lucky.pk, 1)]
    assert _board(split_task, open_division, "public") == [(1, alice_lucky.pk, None), (2, bob_only.pk, None)]


def test_a_withdrawn_or_disqualified_selection_no_longer_counts(
    split_task: Task, open_division: Division, registered: User, other_participant: User
) -> None:
    Task.objects.filter(pk=split_task.pk).update(final_selections=1)
    split_task.refresh_from_db()
    first = _scored(split_task, open_division, registered, public=0.9, private=0.2, minute=1)
    second = _scored(split_task, open_division, registered, public=0.8, private=0.7, minute=2)
    third = _scored(split_task, open_division, registered, public=0.1, private=0.99, minute=3)
    submission_select_final_and_rank(submission=second, user=registered)
    assert _board(split_task, open_division, "private") == [(1, second.pk, 1)]

    # Withdrawn: the team has no selection left, so its single best public submission competes.
    submission_withdraw_and_rank(submission=second, user=registered)
    assert _board(split_task, open_division, "private") == [(1, first.pk, 1)]

    # A disqualified selection is left out the same way.
    submission_select_final_and_rank(submission=third, user=registered)
    assert _board(split_task, open_division, "private") == [(1, third.pk, 1)]
    Submission.objects.filter(pk=third.pk).update(is_disqualified=True)
    leaderboards_rebuild_for_task(task=split_task)
    assert _board(split_task, open_division, "private") == [(1, first.pk, 1)]


def test_a_selection_rebuilds_the_private_board_under_the_best_rule(
    split_task: Task, open_division: Division, registered: User
) -> None:
    submission = _scored(split_task, open_division, registered, public=0.9, private=0.2, minute=1)
    leaderboards_rebuild_for_task(task=split_task)
    before = Leaderboard.objects.get(task=split_task, division=open_division, split="private").version

    submission_select_final_and_rank(submission=submission, user=registered)

    assert Leaderboard.objects.get(task=split_task, division=open_division, split="private").version == before + 1
