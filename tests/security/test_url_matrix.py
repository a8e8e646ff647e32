"""The access matrix over every URL of the site: each route from Django's resolver (pages, API, admin), called by
each role with real ids from the security world, answers what tests/security/access.py declares.

One test walks the whole matrix (building the world once) and reports every difference together; an
unexpected allow (a 2xx or 3xx where a refusal was declared) is named as such.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.security.access import ACCESS, LOGIN, Outcome, Probe, Route, all_routes, call, outcome_of, probes_of, url_of
from tests.security.conftest import ROLES, SecurityWorld

pytestmark = pytest.mark.django_db


def test_every_route_of_the_resolver_has_a_declared_access() -> None:
    undeclared = [route.key for route in all_routes() if probes_of(route) is None]
    assert not undeclared, "\n".join(f"declare the access of {key}" for key in undeclared)


def test_no_declaration_names_a_route_that_no_longer_exists() -> None:
    keys = {route.key for route in all_routes()}
    assert set(ACCESS) <= keys, f"stale declarations: {sorted(set(ACCESS) - keys)}"


def _allowed(outcome: Outcome) -> bool:
    return isinstance(outcome, int) and outcome < 400 and outcome != 304


def _difference(route: Route, probe: Probe, role: str, expected: Outcome, got: Outcome) -> str:
    label = f" [{probe.label}]" if probe.label else ""
    kind = "UNEXPECTED ALLOW" if _allowed(got) and (expected == LOGIN or not _allowed(expected)) else "differs"
    return f"{kind}: {probe.method.upper()} {route.key}{label} as {role}: declared {expected}, got {got}"


def test_each_role_gets_the_declared_answer_on_every_route(security_world: SecurityWorld) -> None:
    clients = {role: security_world.client(role) for role in ROLES}
    differences: list[str] = []
    calls = 0
    for route in all_routes():
        for probe in probes_of(route) or []:
            url = url_of(route, probe, security_world)
            for role in ROLES:
                # A POST may end the session (logout): each gets a client of its own.
                client = clients[role] if probe.method == "get" else security_world.client(role)
                got = outcome_of(call(client, url, probe, security_world))
                calls += 1
                if got != probe.expected[role]:
                    differences.append(_difference(route, probe, role, probe.expected[role], got))
    assert calls > 500
    assert not differences, "\n".join(differences)


def test_no_route_acts_on_a_post_without_the_csrf_token(security_world: SecurityWorld) -> None:
    """Participant A's browser, made to post from another site: every state-changing route refuses (403) before
    it acts, those whose CSRF check runs inside the view (the submission form, the API) included."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(security_world.base.user("participant_a"))
    answers = {}
    for route in all_routes():
        for probe in probes_of(route) or []:
            if probe.method == "post":
                url = url_of(route, probe, security_world)
                answers[f"{route.key} [{probe.label}]"] = call(client, url, probe, security_world).status_code
    assert len(answers) > 20
    assert {key: status for key, status in answers.items() if status != 403} == {"api:not-found []": 404}
