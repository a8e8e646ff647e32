"""The API's task leaderboard serves the private and concealed splits by the pages' access rule: the private board
(with each row's public rank) to organizers during the challenge and to everyone after it; 404 alike for a split
the caller may not see and one that does not exist; 400 for a split that is no split at all. Private boards keep
their ETag (304) and are never kept by shared caches."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from apps.leaderboards.services import leaderboards_rebuild_for_task
from tests.api.conftest import World
from tests.apps.conftest import make_scored_submission
from tests.apps.leaderboards.conftest import add_private_score, end_challenge

pytestmark = pytest.mark.django_db


@pytest.fixture
def private_world(world: World) -> World:
    """The task with a private split: A public 0.5 / private 0.3, B public 0.4 / private 0.6."""
    world.task.config = {**world.task.config, "private_fraction": 0.5, "split_seed": 55555}
    world.task.save(update_fields=["config"])
    add_private_score(world.submission, 0.3)
    other = make_scored_submission(
        task=world.task,
        division=world.division,
        user=world.user("participant_b"),
        primary=0.4,
        created_at=timezone.now(),
    )
    add_private_score(other, 0.6)
    leaderboards_rebuild_for_task(task=world.task)
    return world


def _url(world: World, view: str = "leaderboard") -> str:
    return f"/api/v1/challenges/{world.challenge.slug}/tasks/{world.task.slug}/{view}/"


def _rows(body: dict[str, Any]) -> list[tuple[str, int, int | None, float]]:
    return [(row["team"], row["rank"], row["public_rank"], row["primary"]) for row in body["rows"]]


def test_an_organizer_gets_the_private_board_with_each_rows_public_rank_during_the_challenge(
    private_world: World,
) -> None:
    response = private_world.client("organizer").get(_url(private_world), {"split": "private"})

    assert response.status_code == 200
    assert response.json()["split"] == "private"
    assert _rows(response.json()) == [("bob", 1, 2, 0.6), ("alice", 2, 1, 0.3)]
    assert response["Cache-Control"] == "private, no-cache"


def test_the_public_board_has_no_public_rank_and_may_be_kept_by_shared_caches(private_world: World) -> None:
    response = private_world.client("anonymous").get(_url(private_world))

    assert _rows(response.json()) == [("alice", 1, None, 0.5), ("bob", 2, None, 0.4)]
    assert response["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("view", ["leaderboard", "leaderboard/history"])
@pytest.mark.parametrize("role", ["anonymous", "participant_a", "participant_b"])
def test_a_participant_gets_404_for_the_private_split_before_the_end(
    private_world: World, role: str, view: str
) -> None:
    response = private_world.client(role).get(_url(private_world, view), {"split": "private"})

    assert response.status_code == 404
    assert "0.3" not in response.content.decode() and "0.6" not in response.content.decode()


def test_everyone_gets_the_private_board_once_the_challenge_has_ended(private_world: World) -> None:
    end_challenge(private_world.challenge)

    for role in ("anonymous", "participant_a", "participant_b"):
        response = private_world.client(role).get(_url(private_world), {"split": "private"})
        assert response.status_code == 200, role
        assert _rows(response.json()) == [("bob", 1, 2, 0.6), ("alice", 2, 1, 0.3)]


def test_the_private_history_holds_the_private_scores(private_world: World) -> None:
    response = private_world.client("organizer").get(_url(private_world, "leaderboard/history"), {"split": "private"})

    assert response.status_code == 200
    assert sorted(point["value"] for point in response.json()) == [0.3, 0.6]
    assert response["Cache-Control"] == "private, no-cache"


def test_the_private_board_answers_304_until_it_is_rebuilt(private_world: World) -> None:
    client = private_world.client("organizer")
    first = client.get(_url(private_world), {"split": "private"})
    assert client.get(_url(private_world), {"split": "private"}, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304

    leaderboards_rebuild_for_task(task=private_world.task)

    again = client.get(_url(private_world), {"split": "private"}, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]


def test_the_concealed_split_of_a_task_without_a_concealed_task_is_404_even_for_its_organizer(
    private_world: World,
) -> None:
    assert not private_world.task.has_concealed_task
    for role in ("anonymous", "organizer"):
        assert private_world.client(role).get(_url(private_world), {"split": "concealed"}).status_code == 404


def test_a_split_that_is_no_split_at_all_is_a_400_naming_the_choices(private_world: World) -> None:
    response = private_world.client("organizer").get(_url(private_world), {"split": "secret"})

    assert response.status_code == 400
    assert "secret" in response.content.decode()
