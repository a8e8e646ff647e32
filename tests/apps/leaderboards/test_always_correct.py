"""The served leaderboard always equals the one computed from scratch (no materialised row) after each change
that affects it: a score landing, the ranking rule, a withdrawal, a disqualification, a baseline flag, a split
revealed, a task weight. Each test warms the cache first, so a stale cached board would fail it."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from apps.challenges.models import Challenge, Task
from apps.divisions.models import Division
from apps.jobs.pipeline import evaluate_and_rank, submission_withdraw_and_rank
from apps.leaderboards.challenge_board import challenge_leaderboard_from_scratch
from apps.leaderboards.selectors import leaderboard_view_from_scratch
from apps.leaderboards.services import (
    leaderboard_reveal_split,
    leaderboards_rebuild_for_submission,
    leaderboards_rebuild_for_task,
    task_weight_set,
)
from apps.submissions.models import Submission
from tests.apps.conftest import make_scored_submission
from tests.apps.leaderboards.conftest import add_private_score, challenge_url, client_for, task_url

pytestmark = pytest.mark.django_db
T0 = timezone.now() - dt.timedelta(hours=5)


def _served(user: User | None, task: Task, **query: str) -> dict[str, Any]:
    response = client_for(user).get(task_url("task_json", task, **query))
    assert response.status_code == 200, response.status_code
    return dict(response.json())


def _scratch(task: Task, division: Division, split: str = "public") -> list[dict[str, Any]]:
    rows = asdict(leaderboard_view_from_scratch(task=task, division=division, split=split))["rows"]
    return list(json.loads(json.dumps(rows)))  # as the JSON carries them


def _assert_served_is_scratch(user: User | None, task: Task, division: Division, split: str = "public") -> list[Any]:
    rows = _served(user, task, split=split)["rows"]
    assert rows == _scratch(task, division, split)
    return list(rows)


@pytest.fixture
def board(
    speech_task: Task, open_division: Division, registered: User, bob: User, carol: User, organizer: User
) -> dict[str, Submission]:
    """Three teams and a baseline, ranked and served once (so the cache holds this version)."""

    def scored(user: User, primary: float, minute: int, *, baseline: bool = False) -> Submission:
        moment = T0 + dt.timedelta(minutes=minute)
        return make_scored_submission(
            task=speech_task, division=open_division, user=user, primary=primary, created_at=moment, baseline=baseline
        )

    made = {
        "alice-best": scored(registered, 0.9, 0),
        "alice-low": scored(registered, 0.5, 1),
        "bob": scored(bob, 0.7, 2),
        "carol": scored(carol, 0.7, 3),
        "baseline": scored(organizer, 0.6, 0, baseline=True),
    }
    leaderboards_rebuild_for_task(task=speech_task)
    _assert_served_is_scratch(registered, speech_task, open_division)
    return made


def _submissions(rows: list[dict[str, Any]]) -> list[int]:
    return [row["submission_id"] for row in rows]


def test_a_landed_score_is_served_at_once(
    board: dict[str, Submission],
    submit: Callable[..., Submission],
    speech_task: Task,
    open_division: Division,
    bob: User,
    speech_selections: dict[str, dict[str, Any]],
) -> None:
    submission = submit(bob, speech_selections["random-balanced"])

    assert evaluate_and_rank(submission_id=submission.pk) == "scored"

    rows = _assert_served_is_scratch(bob, speech_task, open_division)
    bobs = [row for row in rows if row["team"] == "bob"]
    assert len(bobs) == 1 and bobs[0]["submissions"] == 2


def test_a_changed_ranking_rule_is_served_after_the_rebuild_it_calls_for(
    board: dict[str, Submission], speech_task: Task, open_division: Division, registered: User
) -> None:
    Submission.objects.filter(pk=board["alice-low"].pk).update(is_selected_final=True)
    Task.objects.filter(pk=speech_task.pk).update(ranking_rule=Task.RankingRule.SELECTED_FINAL)
    speech_task.refresh_from_db()

    leaderboards_rebuild_for_task(task=speech_task)

    rows = _assert_served_is_scratch(registered, speech_task, open_division)
    assert board["alice-low"].pk in _submissions(rows) and board["alice-best"].pk not in _submissions(rows)


def test_a_withdrawal_is_served_at_once(
    board: dict[str, Submission], speech_task: Task, open_division: Division, registered: User
) -> None:
    submission_withdraw_and_rank(submission=board["alice-best"], user=registered)

    rows = _assert_served_is_scratch(registered, speech_task, open_division)
    assert board["alice-best"].pk not in _submissions(rows) and board["alice-low"].pk in _submissions(rows)


def test_a_disqualification_is_served_after_the_rebuild_it_calls_for(
    board: dict[str, Submission], speech_task: Task, open_division: Division, registered: User
) -> None:
    Submission.objects.filter(pk=board["bob"].pk).update(is_disqualified=True)

    leaderboards_rebuild_for_submission(submission=board["bob"])

    rows = _assert_served_is_scratch(registered, speech_task, open_division)
    assert "bob" not in [row["team"] for row in rows]


def test_a_submission_marked_as_baseline_is_served_as_one(
    board: dict[str, Submission], speech_task: Task, open_division: Division, registered: User
) -> None:
    Submission.objects.filter(pk=board["carol"].pk).update(is_baseline=True)

    leaderboards_rebuild_for_submission(submission=board["carol"])

    rows = _assert_served_is_scratch(registered, speech_task, open_division)
    carol = next(row for row in rows if row["submission_id"] == board["carol"].pk)
    assert carol["is_baseline"] and carol["submissions"] == 1


def test_a_revealed_private_split_is_served_and_equals_the_one_from_scratch(
    board: dict[str, Submission], speech_task: Task, open_division: Division, registered: User, organizer: User
) -> None:
    for name, value in {"alice-best": 0.4, "alice-low": 0.8, "bob": 0.6, "carol": 0.6, "baseline": 0.5}.items():
        add_private_score(board[name], value)
    leaderboards_rebuild_for_submission(submission=board["bob"])
    assert client_for(registered).get(task_url("task_json", speech_task, split="private")).status_code == 404

    leaderboard_reveal_split(task=speech_task, split="private", user=organizer)

    rows = _assert_served_is_scratch(registered, speech_task, open_division, split="private")
    assert rows[0]["submission_id"] == board["alice-low"].pk  # the private ranking, not the public one
    assert [row["rank"] for row in rows] == [1, 2, 2, 4]


def _page_board(user: User, challenge: Challenge) -> dict[str, Any]:
    response = client_for(user).get(challenge_url("challenge", challenge))
    assert response.status_code == 200
    found = re.search(r'<script id="challenge-board-data" type="application/json">(.*?)</script>', response.text)
    assert found is not None
    return dict(json.loads(found.group(1)))


def _scratch_board(challenge: Challenge, user: User) -> dict[str, Any]:
    data = asdict(challenge_leaderboard_from_scratch(challenge=challenge, user=user))
    data["divisions"] = data["divisions"][:1]  # the page carries the division it shows
    return dict(json.loads(json.dumps(data)))


def test_a_changed_weight_is_served_at_once_and_equals_the_board_from_scratch(
    board: dict[str, Submission],
    speech_task: Task,
    second_task: Task,
    open_division: Division,
    registered: User,
    bob: User,
    organizer: User,
    challenge: Challenge,
) -> None:
    make_scored_submission(task=second_task, division=open_division, user=bob, primary=0.9)
    make_scored_submission(task=second_task, division=open_division, user=registered, primary=0.1)
    leaderboards_rebuild_for_task(task=second_task)
    before = _page_board(registered, challenge)
    assert before == _scratch_board(challenge, registered)
    assert [row["team"] for row in before["divisions"][0]["rows"]][:2] == ["bob", "alice"]

    task_weight_set(task=speech_task, weight=5.0, user=organizer)

    after = _page_board(registered, challenge)
    assert after == _scratch_board(challenge, registered)
    assert [row["team"] for row in after["divisions"][0]["rows"]][:2] == ["alice", "bob"]
    assert next(t for t in after["tasks"] if t["id"] == speech_task.pk)["weight"] == 5.0


def test_a_score_landing_on_another_task_moves_the_challenge_board(
    board: dict[str, Submission], second_task: Task, open_division: Division, carol: User, challenge: Challenge
) -> None:
    before = _page_board(carol, challenge)

    submission = make_scored_submission(task=second_task, division=open_division, user=carol, primary=0.3)
    leaderboards_rebuild_for_submission(submission=submission)

    after = _page_board(carol, challenge)
    assert after == _scratch_board(challenge, carol)
    assert after != before
