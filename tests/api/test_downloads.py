"""Public data files: streamed whole or by range (to resume), with the SHA-256 as ETag and header."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.http.response import HttpResponseBase

from apps.api.ranges import ByteRange, Unsatisfiable, parse_range
from tests.api.conftest import World


def _url(world: World) -> str:
    return f"/api/v1/challenges/{world.challenge.slug}/tasks/{world.task.slug}/files/{world.public_file.pk}/"


def _body(response: HttpResponseBase) -> bytes:
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]  # a streaming response here


def _content(world: World) -> bytes:
    return Path(world.public_file.file.path).read_bytes()


def test_the_whole_file_comes_with_its_checksum(world: World) -> None:
    response = world.client("participant_a").get(_url(world))
    assert response.status_code == 200
    body = _body(response)
    assert body == _content(world)
    assert hashlib.sha256(body).hexdigest() == world.public_file.sha256
    assert response["X-Content-SHA256"] == world.public_file.sha256
    assert response["ETag"] == f'"{world.public_file.sha256}"'
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "application/octet-stream"
    assert int(response["Content-Length"]) == world.public_file.size
    assert "attachment" in response["Content-Disposition"]


def test_a_range_resumes_where_a_download_stopped(world: World) -> None:
    content = _content(world)
    etag = f'"{world.public_file.sha256}"'
    response = world.client("participant_a").get(_url(world), HTTP_RANGE="bytes=100-", HTTP_IF_RANGE=etag)
    assert response.status_code == 206
    assert _body(response) == content[100:]
    assert response["Content-Range"] == f"bytes 100-{len(content) - 1}/{len(content)}"
    assert int(response["Content-Length"]) == len(content) - 100


@pytest.mark.parametrize(
    ("header", "part"),
    [("bytes=0-9", slice(0, 10)), ("bytes=-10", slice(-10, None)), ("bytes=5-5", slice(5, 6))],
)
def test_closed_and_suffix_ranges(world: World, header: str, part: slice) -> None:
    response = world.client("organizer").get(_url(world), HTTP_RANGE=header)
    assert response.status_code == 206
    assert _body(response) == _content(world)[part]


def test_a_stale_if_range_gets_the_whole_new_file(world: World) -> None:
    response = world.client("participant_a").get(_url(world), HTTP_RANGE="bytes=100-", HTTP_IF_RANGE='"stale"')
    assert response.status_code == 200
    assert _body(response) == _content(world)


def test_a_range_past_the_end_is_416(world: World) -> None:
    size = world.public_file.size
    response = world.client("participant_a").get(_url(world), HTTP_RANGE=f"bytes={size}-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{size}"


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "lines=1-2", "bytes=9-3", "bytes=-", "garbage"])
def test_ranges_this_server_ignores_get_the_whole_file(world: World, header: str) -> None:
    response = world.client("participant_a").get(_url(world), HTTP_RANGE=header)
    assert response.status_code == 200
    assert _body(response) == _content(world)


def test_a_participant_who_is_not_registered_may_not_download(world: World) -> None:
    user = world.user("participant_b")
    world.challenge.participations.filter(team__memberships__user=user).delete()
    response = world.client("participant_b").get(_url(world))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_a_client_may_ask_for_octet_stream(world: World) -> None:
    api = world.client("participant_a")
    assert api.get(_url(world), HTTP_ACCEPT="application/octet-stream").status_code == 200
    missing = _url(world).replace(f"/{world.public_file.pk}/", "/999999/")
    assert api.get(missing, HTTP_ACCEPT="application/octet-stream").status_code == 404


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-", 10, ByteRange(0, 9)),
        ("bytes=3-100", 10, ByteRange(3, 9)),
        ("bytes=-3", 10, ByteRange(7, 9)),
        ("bytes=-30", 10, ByteRange(0, 9)),
        (" bytes = 2 - 4 ", 10, ByteRange(2, 4)),
        ("bytes=4-2", 10, None),
        ("bytes=1-2,4-5", 10, None),
        ("", 10, None),
    ],
)
def test_parse_range(header: str, size: int, expected: ByteRange | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=10-", 10), ("bytes=-0", 10), ("bytes=0-", 0)])
def test_parse_range_unsatisfiable(header: str, size: int) -> None:
    with pytest.raises(Unsatisfiable):
        parse_range(header, size)
