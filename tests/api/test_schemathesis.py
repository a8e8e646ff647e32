"""Property-based tests of every operation of the OpenAPI schema (schemathesis, in process through WSGI):
generated inputs never cause a 500, and every response matches the schema (status, content type, headers,
body). Bounded: a few examples per operation, as participant A and as an anonymous client (< 60 s)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import World

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# With the explicit phase schemathesis adds its coverage cases (boundaries, wrong types, missing fields,
# unsupported methods) to the generated ones.
BOUNDED = settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


# Loaded at collection, from the served endpoint (schemathesis' fixture-based lazy loading does not work with
# pytest 9). Serving the schema touches no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture
def the_world(world: World) -> Iterator[World]:
    """The world, with the WSGI handler kept from closing the test's database connection at the end of each
    request (inside the test's transaction it would; Django's test client disconnects the same handlers)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield world
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _real_path_parameters(case: Any, world: World) -> None:
    """Point the generated request at objects that exist, so the deeper code paths run too."""
    real = {
        "slug": world.challenge.slug,
        "task_slug": world.task.slug,
        "file_id": world.public_file.pk,
        "submission_id": world.submission.pk,
    }
    if case.path_parameters:
        case.path_parameters = {name: real.get(name, value) for name, value in case.path_parameters.items()}


@schema.parametrize()
@BOUNDED
def test_generated_requests_get_documented_answers_and_never_a_500(case: Any, the_world: World) -> None:
    """Each generated request is sent three times: as generated (mostly unknown objects), then aimed at the
    world's real objects, as participant A and anonymously."""
    participant = {"Authorization": f"Token {the_world.tokens['participant_a']}"}
    case.call_and_validate(headers=participant, checks=CHECKS)
    _real_path_parameters(case, the_world)
    case.call_and_validate(headers=participant, checks=CHECKS)
    case.call_and_validate(checks=CHECKS)
