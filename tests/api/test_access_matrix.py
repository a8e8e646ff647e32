"""The access matrix: every endpoint, called by each kind of caller, answers what is declared here.

Each call runs in a savepoint that is rolled back, so every caller meets the same world (a registration or a
withdrawal by one does not change what the next one sees).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from apps.ratchets.models import Item, Round, Standing
from tests.api.conftest import ROLES, World
from tests.apps.conftest import make_scored_submission
from tests.apps.ratchets.factories import make_item, make_ratchet, make_round


def _everyone(code: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, code)


def _signed_in(code: int) -> dict[str, int]:
    return {**dict.fromkeys(ROLES, code), "anonymous": 401}


def _expect(anonymous: int, a: int, b: int, organizer: int, staff: int) -> dict[str, int]:
    return dict(zip(ROLES, (anonymous, a, b, organizer, staff), strict=True))


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    url: Callable[[World], str]
    expected: dict[str, int]
    body: Callable[[World], dict[str, Any]] | None = None
    multipart: bool = False


def _challenge(w: World, suffix: str = "") -> str:
    return f"/api/v1/challenges/{w.challenge.slug}/{suffix}"


def _draft(w: World, suffix: str = "") -> str:
    return f"/api/v1/challenges/{w.draft.slug}/{suffix}"


def _task(w: World, suffix: str = "") -> str:
    return _challenge(w, f"tasks/{w.task.slug}/{suffix}")


def _submission(w: World, suffix: str = "") -> str:
    return f"/api/v1/submissions/{w.submission.pk}/{suffix}"


def _selection(w: World) -> dict[str, Any]:
    upload = SimpleUploadedFile("selection.json", w.valid_selection, content_type="application/json")
    return {"artifact": upload, "method_description": "matrix", "division": w.division.slug}


def _ratchet(w: World, suffix: str = "") -> str:
    return _challenge(w, f"ratchets/roman/{suffix}")


def _b_item(w: World, suffix: str) -> str:
    item = Item.objects.get(ratchet__challenge=w.challenge, claims__team__name="bob")
    return _ratchet(w, f"items/{item.pk}/{suffix}")


@pytest.fixture
def ratchet_world(world: World) -> World:
    """A ratchet of the world's challenge: round 1 closed (its public standing frozen), round 2 open with an item of
    participant B's team, which A validates."""
    ratchet = make_ratchet(world.challenge)
    closed = make_round(ratchet, 1, Round.Status.CLOSED)
    Standing.objects.create(
        round=closed,
        task=ratchet.training_task,
        division=world.division,
        split="public",
        document={"rows": []},
        data_version=1,
        frozen_at=timezone.now(),
    )
    made_by_b = make_scored_submission(
        task=ratchet.test_task, division=world.division, user=world.user("participant_b"), primary=0.5
    )
    make_item(make_round(ratchet, 2), made_by_b)
    return world


ORGANIZERS_ONLY = _expect(404, 404, 404, 200, 200)
TEAM_ACTION = _expect(401, 200, 404, 403, 403)

ENDPOINTS = [
    Endpoint("me", "get", lambda w: "/api/v1/me/", _signed_in(200)),
    Endpoint("challenge list", "get", lambda w: "/api/v1/challenges/", _everyone(200)),
    Endpoint("challenge", "get", _challenge, _everyone(200)),
    Endpoint("draft challenge", "get", _draft, ORGANIZERS_ONLY),
    Endpoint("draft challenge's tasks", "get", lambda w: _draft(w, "tasks/"), ORGANIZERS_ONLY),
    Endpoint("participation", "get", lambda w: _challenge(w, "participation/"), _signed_in(200)),
    Endpoint(
        "register",
        "post",
        lambda w: _challenge(w, "register/"),
        _expect(401, 200, 200, 201, 201),
        body=lambda w: {"accept_rules": True},
    ),
    Endpoint(
        "register without accepting the rules",
        "post",
        lambda w: _challenge(w, "register/"),
        _signed_in(400),
        body=lambda w: {"accept_rules": False},
    ),
    Endpoint("challenge leaderboard", "get", lambda w: _challenge(w, "leaderboard/"), _everyone(200)),
    Endpoint("task list", "get", lambda w: _challenge(w, "tasks/"), _everyone(200)),
    Endpoint("task", "get", _task, _everyone(200)),
    Endpoint("unpublished task", "get", lambda w: _challenge(w, f"tasks/{w.unpublished.slug}/"), ORGANIZERS_ONLY),
    Endpoint("task files", "get", lambda w: _task(w, "files/"), _signed_in(200)),
    Endpoint("public file", "get", lambda w: _task(w, f"files/{w.public_file.pk}/"), _signed_in(200)),
    Endpoint("hidden file", "get", lambda w: _task(w, f"files/{w.hidden_file.pk}/"), _signed_in(404)),
    Endpoint("quota", "get", lambda w: _task(w, "quota/"), _expect(401, 200, 200, 403, 403)),
    Endpoint(
        "submit",
        "post",
        lambda w: _task(w, "submissions/"),
        _expect(401, 201, 201, 403, 403),
        body=_selection,
        multipart=True,
    ),
    Endpoint("task leaderboard", "get", lambda w: _task(w, "leaderboard/"), _everyone(200)),
    Endpoint("leaderboard history", "get", lambda w: _task(w, "leaderboard/history/"), _everyone(200)),
    Endpoint("my submissions", "get", lambda w: "/api/v1/submissions/", _signed_in(200)),
    Endpoint("a's submission", "get", _submission, _expect(401, 200, 404, 200, 200)),
    Endpoint(
        "select a's submission as final",
        "post",
        lambda w: _submission(w, "select-final/"),
        TEAM_ACTION,
        body=lambda w: {"selected": True},
    ),
    Endpoint("withdraw a's submission", "post", lambda w: _submission(w, "withdraw/"), TEAM_ACTION),
    Endpoint("benchmark matrix", "get", lambda w: "/api/v1/benchmarks/", _everyone(200)),
    Endpoint("ratchets", "get", lambda w: _challenge(w, "ratchets/"), _everyone(200)),
    Endpoint("ratchet", "get", _ratchet, _everyone(200)),
    Endpoint("closed round's standings", "get", lambda w: _ratchet(w, "rounds/1/standings/"), _everyone(200)),
    Endpoint("open round's standings", "get", lambda w: _ratchet(w, "rounds/2/standings/"), _everyone(404)),
    Endpoint("next item to validate", "get", lambda w: _ratchet(w, "next-item/"), _signed_in(200)),
    Endpoint("b's item's payload", "get", lambda w: _b_item(w, "payload/"), _expect(401, 200, 404, 200, 200)),
    Endpoint(
        "answer b's item",
        "post",
        lambda w: _b_item(w, "answer/"),
        _expect(401, 200, 403, 200, 200),
        body=lambda w: {"verdict": "correct"},
    ),
    Endpoint("schema", "get", lambda w: "/api/schema/", _everyone(200)),
    Endpoint("swagger ui", "get", lambda w: "/api/docs/", _everyone(200)),
    Endpoint("redoc", "get", lambda w: "/api/redoc/", _everyone(200)),
    Endpoint("no such endpoint", "get", lambda w: "/api/v1/nothing-here/", _everyone(404)),
]


def _call(world: World, endpoint: Endpoint, role: str) -> int:
    client = world.client(role)
    body = endpoint.body(world) if endpoint.body else None
    request = getattr(client, endpoint.method)
    kwargs: dict[str, Any] = {"format": "multipart" if endpoint.multipart else "json"} if body is not None else {}
    with transaction.atomic():
        status: int = request(endpoint.url(world), body, **kwargs).status_code
        transaction.set_rollback(True)
    return status


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[endpoint.name for endpoint in ENDPOINTS])
def test_each_caller_gets_the_declared_answer(ratchet_world: World, endpoint: Endpoint) -> None:
    outcomes = {role: _call(ratchet_world, endpoint, role) for role in ROLES}
    assert outcomes == endpoint.expected


def test_the_matrix_covers_every_operation_of_the_schema(ratchet_world: World) -> None:
    world = ratchet_world
    schema = world.client("anonymous").get("/api/schema/?format=json").json()
    operations = {(method, path) for path, item in schema["paths"].items() for method in item}
    named = {(endpoint.method, _template(endpoint.url(world), world)) for endpoint in ENDPOINTS}
    assert operations <= named


def _template(url: str, world: World) -> str:
    """The schema's path template of a concrete URL of this world."""
    replacements = [
        (f"/challenges/{world.challenge.slug}/", "/challenges/{slug}/"),
        (f"/tasks/{world.task.slug}/", "/tasks/{task_slug}/"),
        (f"/files/{world.public_file.pk}/", "/files/{file_id}/"),
        (f"/submissions/{world.submission.pk}/", "/submissions/{submission_id}/"),
        ("/ratchets/roman/", "/ratchets/{ratchet_slug}/"),
        ("/rounds/1/", "/rounds/{number}/"),
    ]
    for concrete, template in replacements:
        url = url.replace(concrete, template)
    return re.sub(r"/items/\d+/", "/items/{item_id}/", url)


def test_a_scored_submission_is_seen_in_full_by_its_team_and_the_organizers_only(world: World) -> None:
    for role in ("participant_a", "organizer", "staff"):
        data = world.client(role).get(f"/api/v1/submissions/{world.submission.pk}/").json()
        assert data["metrics"]["primary"]["value"] == 0.5
    mine = {role: world.client(role).get("/api/v1/submissions/").json()["count"] for role in ROLES[1:]}
    assert mine == {"participant_a": 1, "participant_b": 0, "organizer": 0, "staff": 0}


def test_the_public_files_are_listed_only_to_those_who_may_download_them(world: World) -> None:
    listed = {role: len(world.client(role).get(_task(world)).json()["files"]) for role in ROLES}
    public = world.task.data_files.filter(role="public").count()
    assert listed == {
        "anonymous": 0,
        "participant_a": public,
        "participant_b": public,
        "organizer": public,
        "staff": public,
    }
    hidden_paths = set(world.task.data_files.filter(role="hidden").values_list("relative_path", flat=True))
    files = world.client("organizer").get(_task(world, "files/")).json()["files"]
    assert hidden_paths and not hidden_paths & {f["path"] for f in files}


def test_no_hidden_file_is_served_to_anyone_whatever_the_id(world: World) -> None:
    hidden_ids = list(world.task.data_files.filter(role="hidden").values_list("pk", flat=True))
    for role in ROLES[1:]:
        client = world.client(role)
        for file_id in hidden_ids:
            response = client.get(_task(world, f"files/{file_id}/"))
            assert response.status_code == 404
            assert response["Content-Type"] == "application/json"
