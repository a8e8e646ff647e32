"""Errors: domain errors mapped in one place (404, 403, 400, 429 with `resets_at`), DRF's own errors in the
same shape, and a rejected submission answered 422 with the evaluator's message intact."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from apps.submissions.models import Submission
from tests.api.conftest import World


def _submit(api: APIClient, world: World, content: bytes, **fields: str) -> tuple[int, dict[str, Any]]:
    upload = SimpleUploadedFile("selection.json", content, content_type="application/json")
    data = {"artifact": upload, "method_description": "m", **fields}
    url = f"/api/v1/challenges/{world.challenge.slug}/tasks/{world.task.slug}/submissions/"
    response = api.post(url, data, format="multipart")
    return response.status_code, response.json()


def test_an_invisible_object_is_404_with_the_selectors_message(world: World) -> None:
    response = world.client("participant_b").get(f"/api/v1/submissions/{world.submission.pk}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No such submission.", "code": "not_found"}


def test_a_forbidden_action_is_403_with_the_selectors_message(world: World) -> None:
    response = world.client("organizer").get(
        f"/api/v1/challenges/{world.challenge.slug}/tasks/{world.task.slug}/quota/"
    )
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Register for this challenge (and accept its rules) first.",
        "code": "forbidden",
    }


def test_invalid_input_from_a_service_is_400(world: World) -> None:
    url = f"/api/v1/challenges/{world.challenge.slug}/register/"
    response = world.client("organizer").post(url, {"accept_rules": False}, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": "You must accept the challenge rules to register.", "code": "invalid"}


def test_a_validation_error_names_the_fields(world: World) -> None:
    url = f"/api/v1/challenges/{world.challenge.slug}/tasks/{world.task.slug}/submissions/"
    response = world.client("participant_a").post(url, {"division": "open"}, format="multipart")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["errors"]) == {"artifact", "method_description"}
    assert "artifact: No file was submitted." in body["detail"]


def test_an_unknown_division_in_the_body_is_invalid_input(world: World) -> None:
    status, body = _submit(world.client("participant_a"), world, world.valid_selection, division="nope")
    assert status == 400
    assert body == {"detail": "No such division for this task.", "code": "invalid"}


def test_an_oversized_file_is_refused_with_the_limit(world: World) -> None:
    world.task.max_upload_bytes = 10
    world.task.save()
    status, body = _submit(world.client("participant_a"), world, world.valid_selection)
    assert status == 413  # stopped while it streamed in (tests/security/test_uploads.py)
    assert body["code"] == "too_large"
    assert "larger than the 10 B this task accepts" in str(body["detail"])


def test_a_rejected_submission_is_422_with_the_evaluators_message_and_line(world: World) -> None:
    broken = b'{\n  "targets": {\n    "fifty": [\n  }\n}\n'
    status, body = _submit(world.client("participant_a"), world, broken)
    assert status == 422
    assert body["status"] == "rejected"
    assert body["terminal"] is True
    submission = Submission.objects.get(pk=body["id"])
    assert submission.status == Submission.Status.REJECTED
    assert body["message"] == submission.message
    assert "selection.json" in str(body["message"])
    assert "line 4" in str(body["message"])


def test_a_submission_that_breaks_a_rule_is_rejected_with_the_rule(world: World) -> None:
    selection = json.loads(world.valid_selection)
    first_class = next(iter(selection["targets"]))
    selection["targets"][first_class].append("no/such/clip.wav")
    status, body = _submit(world.client("participant_a"), world, json.dumps(selection).encode())
    assert status == 422
    assert "no/such/clip.wav" in str(body["message"])


def test_a_used_up_quota_is_429_with_when_it_resets(world: World) -> None:
    world.task.quota_per_day = 1  # the world's scored submission used it
    world.task.save()
    api = world.client("participant_a")
    before = timezone.now()
    status, body = _submit(api, world, world.valid_selection)
    assert status == 429
    assert body["code"] == "quota_exceeded"
    resets_at = parse_datetime(str(body["resets_at"]))
    assert resets_at is not None
    assert before + dt.timedelta(hours=23) < resets_at <= before + dt.timedelta(hours=24, seconds=5)
    assert "1 submissions for the last 24 hours" in str(body["detail"])
    url = f"/api/v1/challenges/{world.challenge.slug}/tasks/{world.task.slug}/submissions/"
    upload = SimpleUploadedFile("s.json", world.valid_selection)
    response = api.post(url, {"artifact": upload, "method_description": "m"}, format="multipart")
    assert 82_000 < int(response["Retry-After"]) <= 86_400
    quota = api.get(f"/api/v1/challenges/{world.challenge.slug}/tasks/{world.task.slug}/quota/").json()
    assert quota["remaining"] == 0
    assert parse_datetime(quota["resets_at"]) == resets_at


def test_the_total_quota_never_resets(world: World) -> None:
    world.task.quota_total = 1
    world.task.save()
    status, body = _submit(world.client("participant_a"), world, world.valid_selection)
    assert status == 429
    assert body["resets_at"] is None


def test_a_closed_challenge_refuses_submissions_with_403(world: World) -> None:
    world.challenge.ends_at = timezone.now() - dt.timedelta(seconds=1)
    world.challenge.starts_at = world.challenge.ends_at - dt.timedelta(days=2)
    world.challenge.save()
    status, body = _submit(world.client("participant_a"), world, world.valid_selection)
    assert status == 403
    assert "closed" in str(body["detail"])


@pytest.mark.parametrize("accept", ["text/html", "application/xml"])
def test_only_json_is_spoken_outside_debug(world: World, accept: str) -> None:
    response = world.client("anonymous").get("/api/v1/challenges/", HTTP_ACCEPT=accept)
    assert response.status_code == 406
    assert response.json()["code"] == "not_acceptable"


def test_the_browsable_api_is_off_when_debug_is_off() -> None:
    assert settings.REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] == ["rest_framework.renderers.JSONRenderer"]
