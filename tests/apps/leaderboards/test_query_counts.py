"""Reads come from the materialised entries, in a number of queries that does not grow with the number of
submissions (5 or 200: the same count), and from the cache once read."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.challenges.models import Challenge, Task
from apps.divisions.models import Division
from apps.leaderboards.services import leaderboards_rebuild_for_task
from tests.apps.conftest import make_scored_submission
from tests.apps.leaderboards.conftest import challenge_url, client_for, empty_caches, task_url
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
MaxQueries = Callable[..., AbstractContextManager[object]]


def _add_submissions(task: Task, division: Division, users: list[User], count: int, start: int) -> None:
    for index in range(start, start + count):
        primary = (index * 37 % 101) / 100
        make_scored_submission(task=task, division=division, user=users[index % len(users)], primary=primary)
    leaderboards_rebuild_for_task(task=task)


def _queries(client: Client, url: str, *, cold: bool) -> int:
    if cold:
        empty_caches()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def _counts(client: Client, urls: list[str], *, cold: bool) -> list[int]:
    return [_queries(client, url, cold=cold) for url in urls]


@pytest.fixture
def users(challenge: Challenge) -> list[User]:
    return [make_user(f"team{index:02d}") for index in range(20)]


def test_the_json_and_pages_cost_the_same_queries_for_5_and_200_submissions(
    speech_task: Task,
    second_task: Task,
    open_division: Division,
    registered: User,
    users: list[User],
    challenge: Challenge,
    django_assert_max_num_queries: MaxQueries,
) -> None:
    client = client_for(registered)
    urls = [
        task_url("task_json", speech_task),
        task_url("task", speech_task),
        task_url("task_csv", speech_task),
        challenge_url("challenge", challenge),
    ]
    _add_submissions(speech_task, open_division, users, 5, 0)
    _add_submissions(second_task, open_division, users, 3, 0)
    _counts(client, urls, cold=True)  # the first request of a session costs one more query; not ours to count
    small = _counts(client, urls, cold=True)

    _add_submissions(speech_task, open_division, users, 195, 5)
    _add_submissions(second_task, open_division, users, 100, 3)

    assert _counts(client, urls, cold=True) == small
    for url, count in zip(urls, small, strict=True):
        empty_caches()
        with django_assert_max_num_queries(count):
            client.get(url)


def test_a_cached_read_skips_the_leaderboard_queries(
    speech_task: Task, open_division: Division, registered: User, users: list[User], challenge: Challenge
) -> None:
    client = client_for(registered)
    _add_submissions(speech_task, open_division, users, 30, 0)
    urls = [task_url("task_json", speech_task), challenge_url("challenge", challenge)]

    _counts(client, urls, cold=True)  # the first request of a session costs one more query

    for url in urls:
        cold = _queries(client, url, cold=True)
        warm = _queries(client, url, cold=False)
        assert warm < cold, (url, warm, cold)


def test_an_unchanged_board_answers_304_without_reading_its_rows(
    speech_task: Task,
    open_division: Division,
    registered: User,
    users: list[User],
    django_assert_max_num_queries: MaxQueries,
) -> None:
    client = client_for(registered)
    _add_submissions(speech_task, open_division, users, 10, 0)
    first = client.get(task_url("task_json", speech_task))

    with CaptureQueriesContext(connection) as captured:
        again = client.get(task_url("task_json", speech_task), headers={"If-None-Match": first["ETag"]})

    assert again.status_code == 304
    assert not any("leaderboards_leaderboardentry" in query["sql"] for query in captured.captured_queries)
