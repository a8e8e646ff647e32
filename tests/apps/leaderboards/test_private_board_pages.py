"""The private leaderboard as users see it: the task page's private tab (the rule, the shake-up columns' data and
the shake-up chart) for organizers during the challenge and for everyone after it; not found for a participant
before (page, JSON, CSV, history); the public tab's note on the held-out share; the CSV's public_rank column; the
private challenge board, which counts a task without a private split by its public board."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.challenges.models import PRIVATE_RULE, Challenge, Task
from apps.divisions.models import Division
from apps.leaderboards.challenge_board import (
    FINAL_BOARDS,
    challenge_leaderboard,
    challenge_leaderboard_from_scratch,
    challenge_splits,
)
from apps.leaderboards.services import leaderboard_reveal_split, leaderboards_rebuild_for_task
from apps.submissions.models import Submission
from tests.apps.conftest import make_scored_submission
from tests.apps.leaderboards.conftest import (
    add_private_score,
    challenge_url,
    client_for,
    end_challenge,
    task_url,
)

pytestmark = pytest.mark.django_db
T0 = timezone.now() - dt.timedelta(hours=5)
SPLIT = {"private_fraction": 0.25, "split_seed": 123456789}

# (team, public, private); the baseline is the organizer's. Public ranks: alice 1, bob 2, baseline 3, carol 4.
# Private ranks: bob 1, carol 2, baseline 3, alice 4.
SCORES = {"alice": (0.9, 0.5), "bob": (0.8, 0.85), "baseline": (0.75, 0.55), "carol": (0.7, 0.6)}
SHAKE_UP = [("bob", 1, 2), ("carol", 2, 4), ("baseline", 3, 3), ("alice", 4, 1)]
"""The private board as (label, private rank, public rank)."""


def _with_split(task: Task) -> Task:
    task.config = {**task.config, **SPLIT}
    task.save(update_fields=["config"])
    return task


def _scored(
    task: Task, division: Division, user: User, scores: tuple[float, float], minute: int, *, baseline: bool = False
) -> Submission:
    """A submission scored on both parts: (public, private)."""
    public, private = scores
    submission = make_scored_submission(
        task=task,
        division=division,
        user=user,
        primary=public,
        created_at=T0 + dt.timedelta(minutes=minute),
        baseline=baseline,
    )
    add_private_score(submission, private)
    return submission


@pytest.fixture
def private_board(
    speech_task: Task, open_division: Division, registered: User, bob: User, carol: User, organizer: User
) -> Task:
    """The speech task with a private split: three teams and a baseline scored on both parts, boards built."""
    _with_split(speech_task)
    users = {"alice": registered, "bob": bob, "baseline": organizer, "carol": carol}
    for minute, (name, user) in enumerate(users.items()):
        _scored(speech_task, open_division, user, SCORES[name], minute, baseline=name == "baseline")
    # A baseline's row is labelled by its method.
    Submission.objects.filter(task=speech_task, is_baseline=True).update(method_description="baseline")
    leaderboards_rebuild_for_task(task=speech_task)
    return speech_task


def _embedded_board(html: str) -> dict[str, Any]:
    found = re.search(r'<script id="leaderboard-data" type="application/json">(.*?)</script>', html, re.S)
    assert found, "the page embeds no board"
    return dict(json.loads(found.group(1)))


def _shake_up(rows: list[dict[str, Any]]) -> list[tuple[str, int, int | None]]:
    return [(row["label"], row["rank"], row["public_rank"]) for row in rows]


def _private_page(client: Client, task: Task) -> str:
    response = client.get(task_url("task", task, split="private"))
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _assert_the_private_tab(html: str, task: Task) -> None:
    assert PRIVATE_RULE.format(n=task.final_selections) in html
    assert "One row per team" not in html  # the public board's rule is not stated for the private one
    assert 'id="chart-shakeup"' in html
    assert 'id="shake-up-legend"' in html
    board = _embedded_board(html)
    assert board["split"] == "private"
    assert _shake_up(board["rows"]) == SHAKE_UP


def test_an_organizer_sees_the_private_tab_with_its_rule_and_shake_up_during_the_challenge(
    private_board: Task, organizer: User
) -> None:
    html = _private_page(client_for(organizer), private_board)

    _assert_the_private_tab(html, private_board)
    assert "split=private" in html  # the tab, and the live update's URL (it polls the private board)


def test_everyone_sees_the_private_tab_once_the_challenge_has_ended(
    private_board: Task, registered: User, challenge: Challenge
) -> None:
    end_challenge(challenge)

    for user in (registered, None):
        _assert_the_private_tab(_private_page(client_for(user), private_board), private_board)


def test_the_rule_states_the_tasks_number_of_final_selections(private_board: Task, organizer: User) -> None:
    Task.objects.filter(pk=private_board.pk).update(final_selections=3)
    private_board.refresh_from_db()

    html = _private_page(client_for(organizer), private_board)

    assert "among its 3 best public submissions" in html


@pytest.mark.parametrize("name", ["task", "task_json", "task_csv", "task_history_json"])
def test_a_participant_gets_404_for_the_private_board_before_the_end(
    private_board: Task, registered: User, name: str
) -> None:
    for user in (registered, None):
        assert client_for(user).get(task_url(name, private_board, split="private")).status_code == 404


def test_the_public_page_of_a_participant_offers_no_private_tab_before_the_end(
    private_board: Task, registered: User
) -> None:
    html = client_for(registered).get(task_url("task", private_board)).content.decode()

    assert 'id="split-tabs"' not in html
    assert "split=private" not in html


def test_the_public_tab_says_what_share_is_held_out_and_where_to_select_while_the_private_board_is_hidden(
    private_board: Task, registered: User
) -> None:
    html = client_for(registered).get(task_url("task", private_board)).content.decode()

    note = re.search(r'<p class="hint" id="held-out-note">(.*?)</p>', html, re.S)
    assert note, "no note on the held-out share"
    assert "25% of it is held out for the final, private ranking" in note.group(1)
    assert PRIVATE_RULE.format(n=2) in note.group(1)
    assert f'href="{reverse("submissions:list")}"' in note.group(1)
    assert str(SPLIT["split_seed"]) not in html


def test_the_held_out_note_goes_once_the_private_board_is_visible(
    private_board: Task, registered: User, organizer: User, challenge: Challenge
) -> None:
    assert 'id="held-out-note"' not in client_for(organizer).get(task_url("task", private_board)).content.decode()
    end_challenge(challenge)
    assert 'id="held-out-note"' not in client_for(registered).get(task_url("task", private_board)).content.decode()


def test_a_task_without_a_private_split_has_no_held_out_note(speech_task: Task, registered: User) -> None:
    assert not speech_task.has_private_split
    html = client_for(registered).get(task_url("task", speech_task)).content.decode()

    assert 'id="held-out-note"' not in html


def _csv(client: Client, task: Task, **query: str) -> list[list[str]]:
    response = client.get(task_url("task_csv", task, **query))
    assert response.status_code == 200, response.status_code
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_private_csv_has_a_public_rank_column_and_the_public_one_none(private_board: Task, organizer: User) -> None:
    header, *rows = _csv(client_for(organizer), private_board, split="private")

    assert header[:3] == ["rank", "public_rank", "team"]
    assert [(row[header.index("label")], int(row[0]), int(row[1])) for row in rows] == SHAKE_UP
    public_header, *_ = _csv(client_for(organizer), private_board)
    assert "public_rank" not in public_header


def test_the_private_json_polled_by_the_page_answers_304_until_the_board_changes(
    private_board: Task, organizer: User, open_division: Division
) -> None:
    client = client_for(organizer)
    url = task_url("task_json", private_board, split="private")
    first = client.get(url)
    assert first["Cache-Control"] == "private, no-cache"
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304

    _scored(private_board, open_division, User.objects.get(username="carol"), (0.95, 0.95), 9)
    leaderboards_rebuild_for_task(task=private_board)

    changed = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]
    assert _shake_up(changed.json()["rows"]) == [("carol", 1, 1), ("bob", 2, 3), ("baseline", 3, 4), ("alice", 4, 2)]


# --- The challenge board's private split --------------------------------------------------------------------


@pytest.fixture
def plain_task(private_board: Task, second_task: Task, open_division: Division, bob: User, carol: User) -> Task:
    """A second task of the challenge without a private split: public scores only."""
    second_task.config = {key: value for key, value in second_task.config.items() if key not in SPLIT}
    second_task.save(update_fields=["config"])
    for minute, (user, value) in enumerate([(bob, 0.2), (carol, 0.6)]):
        make_scored_submission(
            task=second_task,
            division=open_division,
            user=user,
            primary=value,
            created_at=T0 + dt.timedelta(minutes=minute),
        )
    leaderboards_rebuild_for_task(task=second_task)
    return second_task


def _primaries(board_rows: list[dict[str, Any]]) -> dict[str, list[float | None]]:
    return {row["team"]: row["primary"] for row in board_rows}


def test_the_private_challenge_board_combines_the_private_boards_and_counts_a_task_without_one_by_its_public_board(
    private_board: Task, plain_task: Task, registered: User, challenge: Challenge
) -> None:
    end_challenge(challenge)

    board = challenge_leaderboard(challenge=challenge, user=registered, split="private")

    [division] = board.divisions
    assert division["columns"] == [private_board.pk, plain_task.pk]
    # The speech task by its private scores; the plain task by its public ones (not dropped: carol's 0.6 counts).
    assert _primaries(division["rows"]) == {"bob": [0.85, 0.2], "carol": [0.6, 0.6], "alice": [0.5, None]}
    assert [row["team"] for row in division["rows"]] == ["carol", "bob", "alice"]
    assert FINAL_BOARDS in board.normalisation
    assert board == challenge_leaderboard_from_scratch(challenge=challenge, user=registered, split="private")


def test_the_public_challenge_board_keeps_the_public_scores(
    private_board: Task, plain_task: Task, registered: User, challenge: Challenge
) -> None:
    board = challenge_leaderboard(challenge=challenge, user=registered, split="public")

    assert _primaries(board.divisions[0]["rows"]) == {"alice": [0.9, None], "bob": [0.8, 0.2], "carol": [0.7, 0.6]}
    assert FINAL_BOARDS not in board.normalisation


def test_revealing_every_private_board_early_reveals_the_private_challenge_board_whatever_the_other_tasks(
    private_board: Task, plain_task: Task, registered: User, organizer: User, challenge: Challenge
) -> None:
    assert challenge_splits(challenge=challenge, user=registered) == ["public"]
    assert client_for(registered).get(challenge_url("challenge", challenge, split="private")).status_code == 404

    leaderboard_reveal_split(task=private_board, split="private", user=organizer)

    assert challenge_splits(challenge=challenge, user=registered) == ["public", "private"]
    response = client_for(registered).get(challenge_url("challenge_csv", challenge, split="private"))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert [row[1] for row in rows[1:]] == ["carol", "bob", "alice"]
