"""Ties: equal primary values share a rank; within a rank the earlier submission comes first; the rule is stated
on the page under the table and in the JSON."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from apps.challenges.models import Task
from apps.divisions.models import Division
from apps.leaderboards.ranking import TIE_BREAK
from apps.leaderboards.selectors import leaderboard_view_from_scratch
from apps.leaderboards.services import leaderboard_rebuild
from tests.apps.conftest import make_scored_submission
from tests.apps.leaderboards.conftest import client_for, task_url

pytestmark = pytest.mark.django_db
T0 = timezone.now() - dt.timedelta(days=1)


@pytest.fixture
def tied(speech_task: Task, open_division: Division, registered: User, bob: User, carol: User) -> None:
    """carol 0.8 (submitted last), bob 0.8 (first), alice 0.6."""
    for user, primary, minute in ((carol, 0.8, 30), (bob, 0.8, 10), (registered, 0.6, 20)):
        make_scored_submission(
            task=speech_task,
            division=open_division,
            user=user,
            primary=primary,
            created_at=T0 + dt.timedelta(minutes=minute),
        )
    leaderboard_rebuild(task=speech_task, division=open_division)


def test_equal_scores_share_a_rank_and_the_earlier_submission_is_listed_first(
    tied: None, speech_task: Task, registered: User
) -> None:
    payload = client_for(registered).get(task_url("task_json", speech_task)).json()

    assert [(row["rank"], row["team"]) for row in payload["rows"]] == [(1, "bob"), (1, "carol"), (3, "alice")]


def test_the_from_scratch_board_breaks_ties_the_same_way(
    tied: None, speech_task: Task, open_division: Division
) -> None:
    board = leaderboard_view_from_scratch(task=speech_task, division=open_division)

    assert [(row["rank"], row["team"]) for row in board.rows] == [(1, "bob"), (1, "carol"), (3, "alice")]


def test_the_json_states_the_tie_break(tied: None, speech_task: Task, registered: User) -> None:
    payload = client_for(registered).get(task_url("task_json", speech_task)).json()

    assert payload["tie_break"] == TIE_BREAK
    assert "share a rank" in TIE_BREAK and "came first" in TIE_BREAK


def test_the_page_states_the_tie_break_under_the_table(tied: None, speech_task: Task, registered: User) -> None:
    page = client_for(registered).get(task_url("task", speech_task)).text

    assert page.index('id="leaderboard"') < page.index('id="tie-break"')
    assert TIE_BREAK in page
