"""Submissions through the API: created by the intake service (as the form), listed, followed, selected as
final and withdrawn, with the leaderboard rebuilt in the same transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from apps.challenges.models import Task
from apps.leaderboards.models import LeaderboardEntry
from apps.leaderboards.services import leaderboard_rebuild
from apps.submissions.models import Submission
from tests.api.conftest import World
from tests.apps.conftest import make_scored_submission


def _create(api: APIClient, world: World, **fields: str) -> dict[str, Any]:
    upload = SimpleUploadedFile("selection.json", world.valid_selection, content_type="application/json")
    url = f"/api/v1/challenges/{world.challenge.slug}/tasks/{world.task.slug}/submissions/"
    response = api.post(url, {"artifact": upload, "method_description": "balanced", **fields}, format="multipart")
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def test_a_valid_upload_is_validated_at_once_and_queued_for_a_worker(world: World, _no_broker: list[object]) -> None:
    body = _create(world.client("participant_a"), world, code_url="https://example.org/code")
    submission = Submission.objects.get(pk=body["id"])
    assert body["status"] == "queued" == submission.status
    assert submission.submitted_by == world.user("participant_a")
    assert submission.method_description == "balanced"
    assert submission.code_url == "https://example.org/code"
    assert submission.artifact_name == "selection.json"
    assert body["web_url"] == f"http://testserver/submissions/{submission.pk}/"


def test_my_submissions_filter_by_challenge_and_task(world: World) -> None:
    api = world.client("participant_a")
    created = _create(api, world)
    other = Task.objects.create(
        challenge=world.challenge,
        slug="other",
        title="Other",
        evaluator_slug="selection-speech",
        ml_task=Task.MLTask.KEYWORD_SPOTTING,
        config=world.task.config,
    )
    mine = api.get("/api/v1/submissions/").json()
    assert [row["id"] for row in mine["results"]] == [created["id"], world.submission.pk]
    by_task = api.get("/api/v1/submissions/", {"challenge": world.challenge.slug, "task": world.task.slug}).json()
    assert by_task["count"] == 2
    assert api.get("/api/v1/submissions/", {"challenge": world.challenge.slug, "task": other.slug}).json()["count"] == 0
    assert api.get("/api/v1/submissions/", {"challenge": world.challenge.slug}).json()["count"] == 2
    paged = api.get("/api/v1/submissions/", {"limit": 1, "offset": 1}).json()
    assert [row["id"] for row in paged["results"]] == [world.submission.pk]
    assert paged["count"] == 2 and paged["previous"] is not None


def test_a_task_filter_needs_its_challenge(world: World) -> None:
    response = world.client("participant_a").get("/api/v1/submissions/", {"task": world.task.slug})
    assert response.status_code == 400
    assert response.json()["errors"] == {"challenge": ["Name the challenge of the task."]}


def test_the_detail_holds_state_progress_message_and_metrics(world: World) -> None:
    body = world.client("participant_a").get(f"/api/v1/submissions/{world.submission.pk}/").json()
    assert body["status"] == "scored" and body["terminal"] is True
    assert body["progress"] == 1.0
    assert body["metrics"]["primary"]["name"] == "macro_f1"
    assert body["metrics"]["primary"]["value"] == 0.5
    assert body["metrics"]["metrics"][0]["value"] == 0.5


def _ranked(world: World) -> list[int]:
    leaderboard_rebuild(task=world.task, division=world.division)
    rows = world.client("anonymous").get(
        f"/api/v1/challenges/{world.challenge.slug}/tasks/{world.task.slug}/leaderboard/"
    )
    return [row["submission_id"] for row in rows.json()["rows"]]


def test_withdrawing_removes_the_submission_from_the_leaderboard_at_once(world: World) -> None:
    assert _ranked(world) == [world.submission.pk]
    url = f"/api/v1/challenges/{world.challenge.slug}/tasks/{world.task.slug}/leaderboard/"
    etag = world.client("anonymous").get(url)["ETag"]

    response = world.client("participant_a").post(f"/api/v1/submissions/{world.submission.pk}/withdraw/")
    assert response.status_code == 200
    assert response.json()["is_withdrawn"] is True
    assert not LeaderboardEntry.objects.filter(submission=world.submission).exists()
    after = world.client("anonymous").get(url, HTTP_IF_NONE_MATCH=etag)
    assert after.status_code == 200 and after.json()["rows"] == []
    again = world.client("participant_a").post(f"/api/v1/submissions/{world.submission.pk}/withdraw/")
    assert again.status_code == 200  # idempotent


def test_a_withdrawn_submission_cannot_be_selected(world: World) -> None:
    api = world.client("participant_a")
    api.post(f"/api/v1/submissions/{world.submission.pk}/withdraw/")
    response = api.post(f"/api/v1/submissions/{world.submission.pk}/select-final/", {"selected": True}, format="json")
    assert response.status_code == 400
    assert "withdrawn" in response.json()["detail"]


def test_nothing_changes_once_the_challenge_has_ended(world: World) -> None:
    world.challenge.starts_at = timezone.now() - dt.timedelta(days=3)
    world.challenge.ends_at = timezone.now() - dt.timedelta(days=1)
    world.challenge.save()
    api = world.client("participant_a")
    for action in ("withdraw", "select-final"):
        response = api.post(f"/api/v1/submissions/{world.submission.pk}/{action}/", {}, format="json")
        assert response.status_code == 403
        assert "ended" in response.json()["detail"]


def test_a_leaderboard_answers_304_while_unchanged(world: World) -> None:
    url = f"/api/v1/challenges/{world.challenge.slug}/tasks/{world.task.slug}/leaderboard/"
    leaderboard_rebuild(task=world.task, division=world.division)
    first = world.client("anonymous").get(url)
    assert first.json()["version"] == 1
    unchanged = world.client("participant_b").get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert unchanged.status_code == 304
    assert unchanged["ETag"] == first["ETag"]
    make_scored_submission(
        task=world.task,
        division=world.division,
        user=world.user("participant_b"),
        primary=0.7,
    )
    leaderboard_rebuild(task=world.task, division=world.division)
    changed = world.client("anonymous").get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert [row["primary"] for row in changed.json()["rows"]] == [0.7, 0.5]


def test_a_leaderboard_of_an_unknown_division_or_a_hidden_split_is_404_and_of_no_such_split_400(
    world: World,
) -> None:
    url = f"/api/v1/challenges/{world.challenge.slug}/tasks/{world.task.slug}/leaderboard/"
    assert world.client("anonymous").get(url, {"division": "nope"}).status_code == 404
    assert world.client("anonymous").get(url, {"split": "private"}).status_code == 404
    assert world.client("anonymous").get(url, {"split": "nonsense"}).status_code == 400


def test_the_challenge_leaderboard_combines_every_visible_tasks_board(world: World) -> None:
    leaderboard_rebuild(task=world.task, division=world.division)
    boards = world.client("anonymous").get(f"/api/v1/challenges/{world.challenge.slug}/leaderboard/").json()["boards"]
    assert [(b["task"], b["division"]) for b in boards] == [(world.task.slug, "open")]
    organizer_boards = world.client("organizer").get(f"/api/v1/challenges/{world.challenge.slug}/leaderboard/")
    assert {b["task"] for b in organizer_boards.json()["boards"]} == {world.task.slug, world.unpublished.slug}
    assert boards[0]["rows"][0]["submission_id"] == world.submission.pk


def test_the_matrix_lists_the_public_task_with_its_leader(world: World) -> None:
    leaderboard_rebuild(task=world.task, division=world.division)
    matrix = world.client("anonymous").get("/api/v1/benchmarks/").json()
    speech = next(row for row in matrix["rows"] if row["benchmark"] == "selection-speech")
    cell = next(cell for cell in speech["cells"] if cell["ml_task"] == "keyword-spotting")
    assert [task["task"] for task in cell["tasks"]] == [world.task.slug]
    assert cell["tasks"][0]["leader"] == {"team": "alice", "primary": 0.5}
    assert (cell["tasks"][0]["submissions"], cell["tasks"][0]["teams"]) == (1, 1)
