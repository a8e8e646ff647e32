"""The one-query read of a public board (`public_board_ref`) agrees with the full path (`challenge_get`,
`task_get`, `division_of_task`, `leaderboard_split`): whatever the challenge's visibility, the task's
publication, the division named and the divisions that accept the task, a board it finds is the one the full
path shows an anonymous visitor, and every board the full path shows an anonymous visitor, it finds."""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Callable

import psycopg2  # type: ignore[import-untyped]  # no stubs; one statement of administration
import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from apps.challenges.models import Challenge, Task
from apps.challenges.selectors import challenge_get, task_get
from apps.core.errors import NotFound
from apps.divisions.models import Division
from apps.divisions.selectors import division_of_task
from apps.leaderboards import documents, selectors
from apps.leaderboards.services import leaderboards_rebuild_for_task
from tests.apps.conftest import make_scored_submission
from tests.apps.leaderboards.conftest import client_for, task_url

pytestmark = pytest.mark.django_db

VISIBILITIES = [Challenge.Visibility.PUBLIC, Challenge.Visibility.UNLISTED, Challenge.Visibility.DRAFT]
DIVISION_NAMES = [None, "", "open", "closed", "nope"]


def _full_path(challenge: Challenge, task: Task, division_slug: str | None) -> selectors.BoardRef | None:
    """The oracle: what the full path shows an anonymous visitor (None for a 404 or a board never built)."""
    anonymous = AnonymousUser()
    try:
        found = challenge_get(slug=challenge.slug, user=anonymous)
        visible = task_get(challenge=found, slug=task.slug, user=anonymous)
        division = division_of_task(task=visible, slug=division_slug)
        split = selectors.leaderboard_split(task=visible, split=None, user=anonymous)
    except NotFound:
        return None
    return selectors.board_ref(task=visible, division=division, split=split)


@pytest.mark.parametrize(
    ("visibility", "published", "closed_accepts", "first_is_closed"),
    list(itertools.product(VISIBILITIES, [True, False], [True, False], [True, False])),
)
def test_the_one_query_read_finds_exactly_the_boards_everyone_may_see(
    challenge: Challenge,
    speech_task: Task,
    open_division: Division,
    closed_division: Division,
    registered: User,
    visibility: str,
    published: bool,
    closed_accepts: bool,
    first_is_closed: bool,
) -> None:
    other = Task.objects.create(challenge=challenge, slug="other", title="Other", evaluator_slug="selection-speech")
    if not closed_accepts:
        closed_division.tasks.set([other])  # a division that lists tasks accepts only those
    if first_is_closed:
        Division.objects.filter(pk=open_division.pk).update(order=5)  # the default division is then the closed one
    make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.5)
    leaderboards_rebuild_for_task(task=speech_task)
    Challenge.objects.filter(pk=challenge.pk).update(visibility=visibility)
    Task.objects.filter(pk=speech_task.pk).update(is_published=published)

    seen = []
    for name in DIVISION_NAMES:
        fast = selectors.public_board_ref(
            challenge_slug=challenge.slug, task_slug=speech_task.slug, division_slug=name or None
        )
        assert fast == _full_path(challenge, speech_task, name), (name, fast)
        seen.append(fast is not None)
    everyone = visibility != Challenge.Visibility.DRAFT and published
    assert any(seen) == everyone


def test_a_board_never_built_is_left_to_the_full_path(challenge: Challenge, speech_task: Task) -> None:
    assert (
        selectors.public_board_ref(challenge_slug=challenge.slug, task_slug=speech_task.slug, division_slug=None)
        is None
    )
    response = Client().get(task_url("task_json", speech_task))
    assert response.status_code == 200
    assert response.json()["rows"] == [] and response.json()["version"] == 0


def test_organizers_read_a_draft_challenges_board_through_the_full_path(
    challenge: Challenge, speech_task: Task, open_division: Division, registered: User, organizer: User
) -> None:
    make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.5)
    leaderboards_rebuild_for_task(task=speech_task)
    Challenge.objects.filter(pk=challenge.pk).update(visibility=Challenge.Visibility.DRAFT)

    assert client_for(None).get(task_url("task_json", speech_task)).status_code == 404
    assert client_for(registered).get(task_url("task_json", speech_task)).status_code == 404
    rows = client_for(organizer).get(task_url("task_json", speech_task)).json()["rows"]
    assert [row["primary"] for row in rows] == [0.5]


def test_the_page_the_json_and_the_api_serve_the_same_board_document(
    challenge: Challenge, speech_task: Task, open_division: Division, registered: User
) -> None:
    make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.75)
    leaderboards_rebuild_for_task(task=speech_task)
    client = client_for(None)

    served = client.get(task_url("task_json", speech_task)).content
    api = client.get(f"/api/v1/challenges/{challenge.slug}/tasks/{speech_task.slug}/leaderboard/").content
    page = client.get(task_url("task", speech_task)).text

    assert served == api
    document = json.loads(served)
    assert (document["challenge"], document["task"], document["division"], document["split"]) == (
        challenge.slug,
        speech_task.slug,
        "open",
        "public",
    )
    assert [row["primary"] for row in document["rows"]] == [0.75]
    embedded = page.split('<script id="leaderboard-data" type="application/json">', 1)[1].split("</script>", 1)[0]
    assert json.loads(embedded) == document


def test_the_history_is_served_apart_with_its_own_etag(
    challenge: Challenge, speech_task: Task, open_division: Division, registered: User
) -> None:
    for primary in (0.4, 0.6, 0.5):
        make_scored_submission(task=speech_task, division=open_division, user=registered, primary=primary)
    leaderboards_rebuild_for_task(task=speech_task)
    client = client_for(None)
    url = reverse("leaderboards:task_history_json", args=[challenge.slug, speech_task.slug])

    first = client.get(url)
    again = client.get(url, headers={"If-None-Match": first["ETag"]})
    board = client.get(task_url("task_json", speech_task))

    assert [(point["value"], point["best"]) for point in first.json()] == [(0.4, 0.4), (0.6, 0.6), (0.5, 0.6)]
    assert again.status_code == 304
    assert first["ETag"] != board["ETag"]
    assert (
        first.json()
        == client.get(f"/api/v1/challenges/{challenge.slug}/tasks/{speech_task.slug}/leaderboard/history/").json()
    )


def test_a_rebuild_is_served_at_once_though_the_process_kept_the_old_document(
    challenge: Challenge, speech_task: Task, open_division: Division, registered: User, participant: User
) -> None:
    make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.5)
    leaderboards_rebuild_for_task(task=speech_task)
    client = client_for(None)
    before = client.get(task_url("task_json", speech_task)).json()

    make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.9)
    leaderboards_rebuild_for_task(task=speech_task)
    after = client.get(task_url("task_json", speech_task)).json()

    assert [row["primary"] for row in before["rows"]] == [0.5]
    assert [row["primary"] for row in after["rows"]] == [0.9]
    assert after["version"] > before["version"]


class TestLocalDocuments:
    def test_it_keeps_the_most_recently_used_within_its_size(self) -> None:
        kept = documents.LocalDocuments(max_bytes=10, max_age=60)
        kept.put(("a",), b"1234")
        kept.put(("b",), b"5678")
        assert kept.get(("a",)) == b"1234"  # now the most recently used
        kept.put(("c",), b"90ab")

        assert kept.get(("b",)) is None
        assert kept.get(("a",)) == b"1234" and kept.get(("c",)) == b"90ab"

    def test_it_forgets_what_is_older_than_its_age(self) -> None:
        kept = documents.LocalDocuments(max_bytes=10, max_age=-1)
        kept.put(("a",), b"1")
        assert kept.get(("a",)) is None

    def test_a_document_larger_than_the_whole_store_is_not_kept(self) -> None:
        kept = documents.LocalDocuments(max_bytes=3, max_age=60)
        kept.put(("a",), b"12")
        kept.put(("big",), b"12345")
        assert kept.get(("big",)) is None and kept.get(("a",)) == b"12"


def test_the_api_challenge_board_is_made_of_the_boards_documents(
    challenge: Challenge, speech_task: Task, second_task: Task, open_division: Division, registered: User
) -> None:
    make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.75)
    leaderboards_rebuild_for_task(task=speech_task)  # the second task's board is never built
    client = client_for(None)

    combined = client.get(f"/api/v1/challenges/{challenge.slug}/leaderboard/").json()
    each = [client.get(task_url("task_json", task)).json() for task in (speech_task, second_task)]

    assert combined == {"challenge": challenge.slug, "boards": each}
    assert [len(board["rows"]) for board in combined["boards"]] == [1, 0]


def _served(path: str) -> tuple[str, bytes]:
    """A GET through Django's WSGI handler, as gunicorn calls it: unlike the test client's, its requests
    start by recycling the connections (`close_old_connections`, which arms the health check)."""
    status: list[str] = []
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.input": io.BytesIO(),
        "wsgi.url_scheme": "http",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.errors": io.StringIO(),
    }

    def start_response(code: str, headers: list[tuple[str, str]], exc_info: object = None) -> Callable[[bytes], object]:
        status.append(code)
        return lambda _chunk: None

    body = WSGIHandler()(environ, start_response)
    try:
        return status[0], b"".join(body)
    finally:
        body.close()  # an HttpResponse: closing it sends request_finished


@pytest.fixture
def board_path(
    postgres_only: None, challenge: Challenge, speech_task: Task, open_division: Division, registered: User
) -> str:
    make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.5)
    leaderboards_rebuild_for_task(task=speech_task)
    path = task_url("task_json", speech_task)
    assert _served(path)[0] == "200 OK"  # connected, the document cached
    return path


def test_a_read_on_a_connection_the_server_cut_answers_on_a_new_one(board_path: str) -> None:
    """The one-query read is also the connection's health check (no `SELECT 1` first): a connection cut by the
    server since the last request costs a reconnection, not the reader's answer."""
    old_pid = _backend_pid()
    with psycopg2.connect(**_admin_parameters()) as admin, admin.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [old_pid])

    status, body = _served(board_path)

    assert status == "200 OK"
    assert [row["primary"] for row in json.loads(body)["rows"]] == [0.5]
    assert _backend_pid() != old_pid


def test_a_read_sends_no_health_check_of_its_own(board_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    probes: list[object] = []
    wrapper = type(connections["default"])
    is_usable = wrapper.is_usable

    def counted(self: object) -> bool:
        probes.append(self)
        return is_usable(self)  # type: ignore[arg-type]  # the wrapper itself

    monkeypatch.setattr(wrapper, "is_usable", counted)

    assert _served(board_path)[0] == "200 OK"
    assert probes == []


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid: int = cursor.fetchone()[0]
        return pid


def _admin_parameters() -> dict[str, object]:
    settings = connection.settings_dict
    return {
        "dbname": settings["NAME"],
        "user": settings["USER"],
        "password": settings["PASSWORD"] or None,
        "host": settings["HOST"] or "127.0.0.1",
        "port": settings["PORT"] or 5432,
    }
