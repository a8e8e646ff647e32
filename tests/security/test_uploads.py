"""Upload limits hold before the body is stored: a submission over its task's `max_upload_bytes` is refused by
its Content-Length before a byte is read, or stopped while it streams in, through the web form and the API,
with a message saying so; nothing reaches MEDIA_ROOT or a temporary file, and no submission is made.

Bodies are generated as they are read (a 60 MB one costs nothing), and the test counts what was read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from apps.challenges.models import Task
from apps.submissions.models import Submission
from tests.security.conftest import SecurityWorld

pytestmark = pytest.mark.django_db

LIMIT = 1024 * 1024
CHUNK = FileUploadHandler.chunk_size
BOUNDARY = "----dataperf-upload-test"


class Stream:
    """A request body made of `parts`, generated as it is read; `read_bytes` counts what Django read."""

    def __init__(self, parts: list[bytes], content_type: str) -> None:
        self._parts, self.content_type = parts, content_type
        self.length = sum(len(part) for part in parts)
        self.read_bytes = 0
        self._stream = self._generate()
        self._buffer = b""

    def _generate(self) -> Iterator[bytes]:
        for part in self._parts:
            for start in range(0, len(part), CHUNK):
                yield part[start : start + CHUNK]

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._stream, b"")
            if not chunk:
                break
            self._buffer += chunk
        data, self._buffer = (self._buffer, b"") if size < 0 else (self._buffer[:size], self._buffer[size:])
        self.read_bytes += len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        line = b""
        while not line.endswith(b"\n") and (size < 0 or len(line) < size):
            byte = self.read(1)
            if not byte:
                break
            line += byte
        return line

    def environ(self) -> dict[str, object]:
        return {"wsgi.input": self, "CONTENT_LENGTH": str(self.length), "CONTENT_TYPE": self.content_type}


class Body(Stream):
    """A multipart body: the `artifact` file of `size` bytes (spaces after `artifact`), then the text fields."""

    def __init__(self, size: int, fields: dict[str, str], artifact: bytes = b"{}") -> None:
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="artifact"; filename="selection.json"\r\n'
            "Content-Type: application/json\r\n\r\n"
        ).encode()
        tail = "".join(
            f'\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}'
            for name, value in fields.items()
        )
        parts = [head, artifact, b" " * (size - len(artifact)), f"{tail}\r\n--{BOUNDARY}--\r\n".encode()]
        super().__init__(parts, f"multipart/form-data; boundary={BOUNDARY}")


def _stored_files() -> set[Path]:
    root = Path(settings.MEDIA_ROOT)
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


@pytest.fixture
def limited(security_world: SecurityWorld, settings: Settings, tmp_path: Path) -> SecurityWorld:
    """The speech task limited to 1 MB; Django's temporary upload files in a folder of their own."""
    Task.objects.filter(pk=security_world.task.pk).update(max_upload_bytes=LIMIT)
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    (tmp_path / "uploads").mkdir()
    return security_world


def _post(client: Client, url: str, body: Stream, **headers: str) -> tuple[int, str]:
    response = client.generic("POST", url, **body.environ(), **headers)  # type: ignore[arg-type]
    return response.status_code, response.content.decode()


def _form(w: SecurityWorld) -> tuple[str, dict[str, str]]:
    url = reverse("submissions:new", args=[w.challenge.slug, w.task.slug])
    return url, {"division": str(w.base.division.pk), "method_description": "big"}


def _api(w: SecurityWorld) -> tuple[str, dict[str, str]]:
    return f"/api/v1/challenges/{w.challenge.slug}/tasks/{w.task.slug}/submissions/", {"method_description": "big"}


def _refused_without_trace(w: SecurityWorld, before: set[Path], status: int, text: str) -> None:
    assert status == 413, text[:500]
    assert "larger than" in text and "this task accepts" in text and "nothing was stored" in text
    assert _stored_files() == before
    assert not any(Path(str(settings.FILE_UPLOAD_TEMP_DIR)).iterdir())
    assert not Submission.objects.filter(method_description="big").exists()


@pytest.mark.parametrize("interface", ["form", "api-session", "api-token"])
def test_a_60_mb_upload_to_a_1_mb_task_is_refused_before_it_is_read(limited: SecurityWorld, interface: str) -> None:
    url, fields = (_form if interface == "form" else _api)(limited)
    body = Body(60 * 1024 * 1024, fields)
    before = _stored_files()
    token = limited.base.tokens["participant_a"]
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"} if interface == "api-token" else {}
    client = Client() if interface == "api-token" else limited.client("participant_a")

    status, text = _post(client, url, body, **headers)

    _refused_without_trace(limited, before, status, text)
    assert body.read_bytes <= LIMIT + 2 * CHUNK
    assert "60.0 MB" in text


@pytest.mark.parametrize("interface", ["form", "api-session"])
def test_an_upload_is_stopped_as_soon_as_its_file_passes_the_limit(limited: SecurityWorld, interface: str) -> None:
    """A Content-Length within the form's allowance (an artifact and a code archive of 1 MB each), but an
    artifact of 2 MB: the read stops just past 1 MB, before the temporary file holds more than the limit."""
    url, fields = (_form if interface == "form" else _api)(limited)
    body = Body(2 * LIMIT, fields)
    before = _stored_files()

    status, text = _post(limited.client("participant_a"), url, body)

    _refused_without_trace(limited, before, status, text)
    assert body.read_bytes <= LIMIT + 2 * CHUNK
    assert "1.0 MB" in text


def test_an_api_refusal_has_the_error_shape(limited: SecurityWorld) -> None:
    url, fields = _api(limited)
    status, text = _post(limited.client("participant_a"), url, Body(3 * LIMIT, fields))
    assert status == 413
    assert json.loads(text)["code"] == "too_large"


@pytest.mark.parametrize("interface", ["form", "api-session"])
def test_an_upload_of_exactly_the_limit_is_received(limited: SecurityWorld, interface: str) -> None:
    url, fields = (_form if interface == "form" else _api)(limited)
    body = Body(LIMIT, {**fields, "division": fields.get("division", "open")}, artifact=limited.base.valid_selection)

    status, _ = _post(limited.client("participant_a"), url, body)

    assert status in {201, 302}
    assert Submission.objects.get(method_description="big").artifact_size == LIMIT


def test_the_form_checks_the_csrf_token_once_the_limit_is_in_place(limited: SecurityWorld) -> None:
    """The form's view is csrf_exempt so that the limit comes before the body is read; it checks the token
    itself: without it nothing happens, with it the submission is made."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(limited.base.user("participant_a"))
    url, fields = _form(limited)
    assert client.get(url).status_code == 200
    token = client.cookies[settings.CSRF_COOKIE_NAME].value

    refused, _ = _post(client, url, Body(100, fields, artifact=limited.base.valid_selection[:50]))
    accepted, _ = _post(
        client, url, Body(LIMIT // 2, {**fields, "csrfmiddlewaretoken": token}, artifact=limited.base.valid_selection)
    )

    assert (refused, accepted) == (403, 302)


def test_every_request_is_held_to_the_platform_cap(limited: SecurityWorld, settings: Settings) -> None:
    """Any view, not only submissions: over DATA_UPLOAD_MAX_BYTES, the body is refused before it is read (400)."""
    settings.DATA_UPLOAD_MAX_BYTES = LIMIT
    body = Body(5 * LIMIT, {"name": "A team"})
    status, _ = _post(limited.client("participant_a"), reverse("accounts:teams"), body)
    assert status == 400
    assert body.read_bytes == 0


def test_a_large_form_body_without_files_is_refused_before_it_is_read(limited: SecurityWorld) -> None:
    """Not multipart: held to DATA_UPLOAD_MAX_MEMORY_SIZE (Django's limit, which DRF applies), in the API's shape."""
    body = Stream([b"method_description=", b"x" * (50 * 1024 * 1024)], "application/x-www-form-urlencoded")
    url = f"/api/v1/challenges/{limited.challenge.slug}/tasks/{limited.task.slug}/submissions/"

    status, text = _post(limited.client("participant_a"), url, body)

    assert (status, json.loads(text)["code"]) == (413, "too_large")
    assert body.read_bytes == 0
