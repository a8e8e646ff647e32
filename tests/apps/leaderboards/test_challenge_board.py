"""The challenge leaderboard: per division, each team's weighted mean over tasks of its min-max normalised
primary score (0 for a task it is not ranked on), with the organizers' weights."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from apps.challenges.models import Challenge, Task
from apps.core.errors import Forbidden, InvalidInput, NotFound
from apps.divisions.models import Division
from apps.leaderboards.challenge_board import (
    TaskRow,
    _normalised,
    challenge_leaderboard,
    combine_scores,
    team_task_breakdown,
)
from apps.leaderboards.models import TaskWeight
from apps.leaderboards.services import leaderboards_rebuild_for_task, task_weight_set
from tests.apps.conftest import make_scored_submission, team_of
from tests.apps.leaderboards.conftest import add_private_score, challenge_url, client_for, end_challenge

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def _row(team_id: int, primary: float) -> TaskRow:
    return TaskRow(team_id=team_id, team=f"t{team_id}", rank=0, primary=primary, submitted_at=NOW)


def test_normalisation_gives_the_best_row_1_and_the_worst_0() -> None:
    assert _normalised([_row(1, 0.9), _row(2, 0.5), _row(3, 0.7)], True) == {1: 1.0, 2: 0.0, 3: pytest.approx(0.5)}


def test_normalisation_orients_a_lower_is_better_metric() -> None:
    assert _normalised([_row(1, 0.1), _row(2, 0.3)], False) == {1: 1.0, 2: 0.0}


def test_equal_rows_all_normalise_to_1() -> None:
    assert _normalised([_row(1, 0.4), _row(2, 0.4)], True) == {1: 1.0, 2: 1.0}


def test_the_score_is_the_weighted_mean_with_a_missing_task_counting_0() -> None:
    assert combine_scores([1.0, None, 0.5], [2.0, 1.0, 1.0]) == pytest.approx(2.5 / 4)
    assert combine_scores([1.0, 1.0], [0.0, 0.0]) == 0.0


def test_mathematically_equal_scores_tie_despite_floating_point() -> None:
    assert 0.1 + 0.2 != 0.3  # the floating-point arithmetic this guards against
    assert combine_scores([0.1, 0.2], [1.0, 1.0]) == combine_scores([0.3, 0.0], [1.0, 1.0])


@pytest.fixture
def two_tasks(
    speech_task: Task,
    second_task: Task,
    open_division: Division,
    registered: User,
    bob: User,
    carol: User,
    organizer: User,
) -> None:
    """speech: alice 0.9, bob 0.5, carol 0.7 (and a baseline at 0.95); second: bob 0.8, alice 0.4."""
    plan = [
        (speech_task, registered, 0.9),
        (speech_task, bob, 0.5),
        (speech_task, carol, 0.7),
        (second_task, bob, 0.8),
        (second_task, registered, 0.4),
    ]
    for minute, (task, user, primary) in enumerate(plan):
        moment = NOW - dt.timedelta(hours=1) + dt.timedelta(minutes=minute)
        make_scored_submission(task=task, division=open_division, user=user, primary=primary, created_at=moment)
    make_scored_submission(task=speech_task, division=open_division, user=organizer, primary=0.95, baseline=True)
    for task in (speech_task, second_task):
        leaderboards_rebuild_for_task(task=task)


def _scores(challenge: Challenge, user: User) -> dict[str, float]:
    board = challenge_leaderboard(challenge=challenge, user=user)
    return {row["team"]: row["score"] for row in board.divisions[0]["rows"]}


def test_teams_are_scored_by_the_weighted_mean_of_their_normalised_scores(
    two_tasks: None, challenge: Challenge, registered: User
) -> None:
    # speech: alice 1, carol 0.5, bob 0; second: bob 1, alice 0, carol missing (0). Equal weights.
    assert _scores(challenge, registered) == pytest.approx({"alice": 0.5, "bob": 0.5, "carol": 0.25})


def test_the_organizers_weights_change_the_scores(
    two_tasks: None, challenge: Challenge, second_task: Task, registered: User, organizer: User
) -> None:
    task_weight_set(task=second_task, weight=3.0, user=organizer)

    assert _scores(challenge, registered) == pytest.approx({"alice": 0.25, "bob": 0.75, "carol": 0.125})


def test_baselines_are_not_ranked_on_the_challenge_board(
    two_tasks: None, challenge: Challenge, registered: User
) -> None:
    board = challenge_leaderboard(challenge=challenge, user=registered)

    assert {row["team"] for row in board.divisions[0]["rows"]} == {"alice", "bob", "carol"}


def test_equal_scores_share_a_rank_and_the_earlier_team_comes_first(
    two_tasks: None, challenge: Challenge, registered: User
) -> None:
    rows = challenge_leaderboard(challenge=challenge, user=registered).divisions[0]["rows"]

    # alice's latest counted submission (minute 4) is later than bob's (minute 3).
    assert [(row["rank"], row["team"]) for row in rows] == [(1, "bob"), (1, "alice"), (3, "carol")]


def test_a_division_combines_only_the_tasks_it_accepts(
    two_tasks: None,
    challenge: Challenge,
    speech_task: Task,
    second_task: Task,
    open_division: Division,
    registered: User,
) -> None:
    open_division.tasks.set([speech_task])

    board = challenge_leaderboard(challenge=challenge, user=registered)

    assert board.divisions[0]["columns"] == [speech_task.pk]
    assert _scores(challenge, registered) == pytest.approx({"alice": 1.0, "bob": 0.0, "carol": 0.5})


def test_an_unpublished_task_is_left_out_for_participants_but_not_for_organizers(
    two_tasks: None, challenge: Challenge, second_task: Task, registered: User, organizer: User
) -> None:
    Task.objects.filter(pk=second_task.pk).update(is_published=False)

    assert [t["id"] for t in challenge_leaderboard(challenge=challenge, user=registered).tasks] != [
        t["id"] for t in challenge_leaderboard(challenge=challenge, user=organizer).tasks
    ]
    assert second_task.pk not in [t["id"] for t in challenge_leaderboard(challenge=challenge, user=registered).tasks]


def test_the_breakdown_of_a_team_shows_its_row_on_every_task(
    two_tasks: None, challenge: Challenge, speech_task: Task, second_task: Task, registered: User, carol: User
) -> None:
    [division] = team_task_breakdown(team=team_of(carol), challenge=challenge, user=registered)

    # Its rank on the task board, where the baseline (0.95) ranks first.

    assert division["team"] == "carol" and division["rank"] == 3
    by_task = {item["id"]: item for item in division["tasks"]}
    assert by_task[speech_task.pk] | {"normalised": pytest.approx(0.5)} == {
        **by_task[speech_task.pk],
        "rank": 3,
        "primary": 0.7,
        "weight": 1.0,
        "contribution": pytest.approx(0.25),
    }
    assert (by_task[second_task.pk]["rank"], by_task[second_task.pk]["normalised"]) == (None, 0.0)


def test_the_private_challenge_board_is_not_found_for_a_participant_until_the_end(
    two_tasks: None, challenge: Challenge, speech_task: Task, open_division: Division, registered: User
) -> None:
    submission = make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.3)
    add_private_score(submission, 0.3)
    leaderboards_rebuild_for_task(task=speech_task)
    with pytest.raises(NotFound):
        challenge_leaderboard(challenge=challenge, user=registered, split="private")

    end_challenge(challenge)

    assert challenge_leaderboard(challenge=challenge, user=registered, split="private").split == "private"


def test_a_task_without_a_weight_weighs_1(speech_task: Task, organizer: User) -> None:
    assert not TaskWeight.objects.exists()
    assert TaskWeight.DEFAULT == 1.0


def test_only_organizers_set_weights(speech_task: Task, registered: User) -> None:
    with pytest.raises(Forbidden):
        task_weight_set(task=speech_task, weight=2.0, user=registered)


@pytest.mark.parametrize("weight", [-1.0, math.nan, math.inf])
def test_a_weight_is_a_finite_number_of_at_least_0(speech_task: Task, organizer: User, weight: float) -> None:
    with pytest.raises(InvalidInput):
        task_weight_set(task=speech_task, weight=weight, user=organizer)


def test_the_page_offers_weight_inputs_with_the_organizers_weights_and_the_breakdown(
    two_tasks: None, challenge: Challenge, second_task: Task, registered: User, organizer: User, carol: User
) -> None:
    task_weight_set(task=second_task, weight=2.5, user=organizer)

    page = client_for(registered).get(challenge_url("challenge", challenge, team=str(team_of(carol).pk))).text

    assert f'id="weight-{second_task.pk}"' in page and 'value="2.5"' in page
    assert 'id="breakdown-table"' in page and "Per-task breakdown: carol" in page
    assert 'id="breakdown-data"' in page and 'id="challenge-board-data"' in page
    assert "js/challenge_leaderboard.js" in page and "vendor/plotly.min.js" in page


def test_the_breakdown_defaults_to_the_viewers_team(two_tasks: None, challenge: Challenge, bob: User) -> None:
    page = client_for(bob).get(challenge_url("challenge", challenge)).text

    assert "Per-task breakdown: bob" in page


def test_the_challenge_board_csv_has_one_row_per_team(two_tasks: None, challenge: Challenge, registered: User) -> None:
    response = client_for(registered).get(challenge_url("challenge_csv", challenge))

    lines = response.content.decode().splitlines()
    assert response["Content-Type"].startswith("text/csv")
    assert lines[0].startswith("rank,team,score,")
    assert [line.split(",")[1] for line in lines[1:]] == ["bob", "alice", "carol"]
