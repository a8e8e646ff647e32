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

from apps.ratchets.models import Item
from tests.api.conftest import World
from tests.apps.conftest import make_scored_submission
from tests.apps.ratchets.factories import make_item, make_ratchet, make_round

pytestmark = pytest.mark.serial  # every operation's test has the same node ID, which pytest-xdist cannot tell apart

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
def ratchet_item(world: World) -> Item:
    """An item of participant B in the open round of a ratchet of the world's challenge: A may validate it."""
    made_by_b = make_scored_submission(
        task=world.task, division=world.division, user=world.user("participant_b"), primary=0.4
    )
    return make_item(make_round(make_ratchet(world.challenge)), made_by_b)


@pytest.fixture
def the_world(world: World, ratchet_item: Item) -> Iterator[World]:
    """The world (with a ratchet), with the WSGI handler kept from closing the test's database connection at the
    end of each request (inside the test's transaction it would; Django's test client disconnects the same
    handlers)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield world
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _real_path_parameters(case: Any, world: World, item: Item) -> None:
    """Point the generated request at objects that exist, so the deeper code paths run too."""
    real = {
        "slug": world.challenge.slug,
        "task_slug": world.task.slug,
        "file_id": world.public_file.pk,
        "submission_id": world.submission.pk,
        "ratchet_slug": item.ratchet.slug,
        "number": item.round.number,
        "item_id": item.pk,
    }
    if case.path_parameters:
        case.path_parameters = {name: real.get(name, value) for name, value in case.path_parameters.items()}


@schema.parametrize()
@BOUNDED
def test_generated_requests_get_documented_answers_and_never_a_500(
    case: Any, the_world: World, ratchet_item: Item
) -> None:
    """Each generated request is sent three times: as generated (mostly unknown objects), then aimed at the
    world's real objects, as participant A and anonymously."""
    participant = {"Authorization": f"Token {the_world.tokens['participant_a']}"}
    case.call_and_validate(headers=participant, checks=CHECKS)
    _real_path_parameters(case, the_world, ratchet_item)
    case.call_and_validate(headers=participant, checks=CHECKS)
    case.call_and_validate(checks=CHECKS)
