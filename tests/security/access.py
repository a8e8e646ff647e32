"""The declared access of every URL of the site: for each route name (or, for an unnamed route, its pattern),
the probes to make and the outcome each role must get. test_url_matrix.py walks Django's resolver and fails on
any route declared nowhere here, so a new route cannot go unchecked.

An outcome is an HTTP status, or `LOGIN`: a redirect to a login page (the site's or the admin's).
Admin routes of registered models are declared by rule (`admin_probes`): staff only, everyone else is sent to
the admin's login.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Model
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import PASSWORD
from tests.security.conftest import ROLES, SecurityWorld

LOGIN = "login"
Outcome = int | str
Kwargs = Callable[[SecurityWorld], dict[str, Any]]
Data = Callable[[SecurityWorld], dict[str, Any]]


def expect(
    anonymous: Outcome, a: Outcome, b: Outcome, other: Outcome, organizer: Outcome, staff: Outcome
) -> dict[str, Outcome]:
    return dict(zip(ROLES, (anonymous, a, b, other, organizer, staff), strict=True))


def everyone(outcome: Outcome) -> dict[str, Outcome]:
    return dict.fromkeys(ROLES, outcome)


def signed_in(outcome: Outcome, anonymous: Outcome = LOGIN) -> dict[str, Outcome]:
    return {**everyone(outcome), "anonymous": anonymous}


@dataclass(frozen=True)
class Probe:
    """One request: `kwargs` override the URL's arguments (defaults: `default_kwargs`), `query` is appended,
    `data` is the body (multipart, or JSON when `as_json`)."""

    expected: dict[str, Outcome]
    method: str = "get"
    kwargs: Kwargs | None = None
    query: str = ""
    data: Data | None = None
    as_json: bool = False
    label: str = ""


@dataclass(frozen=True)
class Route:
    key: str  # "namespace:name", or the pattern for an unnamed route
    pattern: str
    params: tuple[str, ...] = field(default=())


def _walk(patterns: list[URLPattern | URLResolver], prefix: str, namespace: str | None) -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
            continue
        pattern = prefix + str(entry.pattern)
        name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
        yield Route(key=name or pattern, pattern=pattern, params=tuple(_params(pattern)))


def _params(pattern: str) -> list[str]:
    return [a or b for a, b in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", pattern)]


def all_routes() -> list[Route]:
    """Every URL pattern of the site, from Django's resolver (web pages, the API, the admin)."""
    return list(_walk(get_resolver().url_patterns, "/", None))


# --- The declarations -----------------------------------------------------------------------------------


def default_kwargs(w: SecurityWorld) -> dict[str, Any]:
    """URL arguments by name: the speech challenge and task, A's objects."""
    return {
        "slug": w.challenge.slug,
        "task_slug": w.task.slug,
        "file_id": w.base.public_file.pk,
        "submission_id": w.submission_a.pk,
        "team_id": w.team_a_named.pk,
        "invite_id": w.invite_a.pk,
        "user_id": w.member_of_a.pk,
        "token_id": w.token_a.pk,
        "participation_id": w.pending.pk,
        "export_id": w.export.pk,
        "token": w.invite_b_token,
        "ratchet_slug": w.roman.ratchet.slug,
        "number": w.roman.closed.number,
        "item_id": w.roman.item_b.pk,
    }


def _selection(w: SecurityWorld) -> SimpleUploadedFile:
    return SimpleUploadedFile("selection.json", w.base.valid_selection, content_type="application/json")


def _form_submission(w: SecurityWorld) -> dict[str, Any]:
    return {"division": w.base.division.pk, "artifact": _selection(w), "method_description": "matrix"}


def _api_submission(w: SecurityWorld) -> dict[str, Any]:
    return {"division": w.base.division.slug, "artifact": _selection(w), "method_description": "matrix"}


def _signup(w: SecurityWorld) -> dict[str, Any]:
    return {"username": "newcomer", "email": "newcomer@example.org", "password1": PASSWORD, "password2": PASSWORD}


def _draft(w: SecurityWorld) -> dict[str, Any]:
    return {"slug": w.base.draft.slug}


def _other(w: SecurityWorld) -> dict[str, Any]:
    return {"slug": w.other_challenge.slug}


def _unpublished(w: SecurityWorld) -> dict[str, Any]:
    return {"task_slug": w.base.unpublished.slug}


def _hidden_file(w: SecurityWorld) -> dict[str, Any]:
    return {"file_id": w.base.hidden_file.pk}


def _concealed_file(w: SecurityWorld) -> dict[str, Any]:
    return {"file_id": w.concealed_file.pk}


def _b_submission(w: SecurityWorld) -> dict[str, Any]:
    return {"submission_id": w.submission_b.pk}


def _team_b(w: SecurityWorld) -> dict[str, Any]:
    return {"team_id": w.team_b_named.pk}


def _other_export(w: SecurityWorld) -> dict[str, Any]:
    return {"export_id": w.other_export.pk}


def _other_export_there(w: SecurityWorld) -> dict[str, Any]:
    return {"slug": w.other_challenge.slug, "export_id": w.other_export.pk}


def _live_round(w: SecurityWorld) -> dict[str, Any]:
    return {"number": w.roman.live.number}


def _no_round(w: SecurityWorld) -> dict[str, Any]:
    return {"number": w.roman.live.number + 1}


def _gold(w: SecurityWorld) -> dict[str, Any]:
    return {"item_id": w.roman.gold.pk}


def _a_item(w: SecurityWorld) -> dict[str, Any]:
    return {"item_id": w.roman.item_a.pk}


def _closed_a_item(w: SecurityWorld) -> dict[str, Any]:
    return {"item_id": w.roman.closed_a.pk}


def _closed_b_item(w: SecurityWorld) -> dict[str, Any]:
    return {"item_id": w.roman.closed_b.pk}


def _answer_b_item(w: SecurityWorld) -> dict[str, Any]:
    """The validation page's "correct" form, on B's new item."""
    return {"item": w.roman.item_b.pk, "verdict": "correct"}


def _correct(w: SecurityWorld) -> dict[str, Any]:
    return {"verdict": "correct"}


def _post(expected: dict[str, Outcome], data: Data | None = None, **more: Any) -> Probe:
    return Probe(expected, method="post", data=data, **more)


GET_ONLY_POST = everyone(405)
"""What a GET to a POST-only route answers, to anyone."""

ORGANIZER_PAGE = expect(LOGIN, 403, 403, 403, 200, 200)
SUBMISSION_OF_A = expect(LOGIN, 200, 404, 404, 200, 200)
TEAM_OF_A = expect(LOGIN, 200, 404, 404, 404, 200)
ORGANIZERS_OF_DRAFT = expect(404, 404, 404, 404, 200, 200)
PRIVATE_BOARD = expect(404, 404, 404, 404, 200, 200)
PUBLIC_FILE = expect(403, 200, 200, 403, 200, 200)
API_TEAM_ACTION = expect(401, 200, 404, 404, 403, 403)
VALIDATORS = expect(LOGIN, 200, 200, 403, 200, 200)
"""The ratchet's validators: the challenge's approved participants (A and B) and its organizers (staff too)."""
ITEM_OF_B = expect(404, 200, 404, 404, 200, 200)
"""A live item of B's team: other validators and the organizers; never its own team."""
ITEM_OF_A = expect(404, 404, 200, 404, 200, 200)
ITEM_OF_NOBODY = expect(404, 200, 200, 404, 200, 200)
"""A gold item: no team's, every validator's."""
CLOSED_ITEM = expect(404, 404, 404, 404, 200, 200)
"""An item of a closed round: the organizers only (its own team included: validation is over)."""


def _api(page: dict[str, Outcome]) -> dict[str, Outcome]:
    """The API's twin of a page's outcomes: an anonymous caller is not authenticated (401)."""
    return {**page, "anonymous": 401}


ACCESS: dict[str, list[Probe]] = {
    "healthz": [Probe(everyone(200))],
    "favicon": [Probe(everyone(302))],
    # --- accounts
    "accounts:signup": [Probe(everyone(200)), _post(everyone(302), _signup)],
    "accounts:login": [
        Probe(everyone(200)),
        _post(everyone(200), lambda w: {"username": "alice", "password": "wrong"}, label="bad password"),
    ],
    "accounts:logout": [Probe(everyone(405)), _post(everyone(302))],
    "accounts:tokens": [Probe(signed_in(200)), _post(signed_in(200), lambda w: {"name": "new"})],
    "accounts:token_revoke": [Probe(GET_ONLY_POST), _post(expect(LOGIN, 302, 404, 404, 404, 404))],
    "accounts:teams": [Probe(signed_in(200)), _post(signed_in(302), lambda w: {"name": "Fresh team"})],
    "accounts:team": [Probe(TEAM_OF_A), Probe(expect(LOGIN, 404, 200, 404, 404, 200), kwargs=_team_b, label="B's")],
    "accounts:team_invite": [
        Probe(GET_ONLY_POST),
        _post(expect(LOGIN, 200, 404, 404, 404, 400), lambda w: {"days": 7}),
    ],
    "accounts:team_invite_revoke": [Probe(GET_ONLY_POST), _post(expect(LOGIN, 302, 404, 404, 404, 403))],
    "accounts:team_leave": [Probe(GET_ONLY_POST), _post(expect(LOGIN, 302, 404, 404, 404, 302))],
    "accounts:team_remove": [Probe(GET_ONLY_POST), _post(expect(LOGIN, 302, 404, 404, 404, 302))],
    # --- challenges
    "challenges:list": [Probe(everyone(200))],
    "challenges:detail": [
        Probe(everyone(200)),
        Probe(ORGANIZERS_OF_DRAFT, kwargs=_draft, label="draft"),
        Probe(everyone(200), kwargs=_other, label="other challenge"),
    ],
    "challenges:register": [Probe(GET_ONLY_POST), _post(signed_in(302), lambda w: {"accept_rules": "on"})],
    "challenges:registrations": [
        Probe(ORGANIZER_PAGE),
        Probe(expect(LOGIN, 403, 403, 200, 403, 200), kwargs=_other, label="other challenge"),
    ],
    "challenges:registration_approve": [Probe(GET_ONLY_POST), _post(expect(LOGIN, 403, 403, 403, 302, 302))],
    "challenges:registration_reject": [Probe(GET_ONLY_POST), _post(expect(LOGIN, 403, 403, 403, 302, 302))],
    "challenges:team_join": [Probe(signed_in(200)), _post(expect(LOGIN, 302, 400, 302, 302, 302))],
    "challenges:task": [
        Probe(everyone(200)),
        Probe(expect(404, 404, 404, 404, 200, 200), kwargs=_unpublished, label="unpublished"),
    ],
    "challenges:task_data_zip": [Probe(PUBLIC_FILE)],
    "challenges:task_algorithm_example": [Probe(everyone(200))],
    "challenges:task_data": [
        Probe(PUBLIC_FILE),
        Probe(everyone(404), kwargs=_hidden_file, label="hidden file"),
        Probe(everyone(404), kwargs=_concealed_file, label="concealed task's public file"),
    ],
    # --- submissions
    "submissions:new": [
        Probe(expect(LOGIN, 200, 200, 403, 403, 403)),
        _post(expect(LOGIN, 302, 302, 403, 403, 403), _form_submission),
    ],
    "submissions:list": [Probe(signed_in(200))],
    "submissions:detail": [
        Probe(SUBMISSION_OF_A),
        Probe(expect(LOGIN, 404, 200, 404, 200, 200), kwargs=_b_submission, label="B's"),
    ],
    "submissions:status": [
        Probe(SUBMISSION_OF_A),
        Probe(expect(LOGIN, 404, 200, 404, 200, 200), kwargs=_b_submission, label="B's"),
    ],
    # A team's choices on the submission's page: an organizer or staff (not in the team) is sent back to the
    # page with the service's refusal.
    "jobs:final": [Probe(GET_ONLY_POST), _post(expect(LOGIN, 302, 404, 404, 302, 302), lambda w: {"selected": "1"})],
    "jobs:withdraw": [
        Probe(GET_ONLY_POST),
        _post(expect(LOGIN, 302, 404, 404, 302, 302), lambda w: {"confirm": "yes"}),
    ],
    # --- leaderboards
    "leaderboards:matrix": [Probe(everyone(200))],
    "leaderboards:task": [
        Probe(everyone(200)),
        Probe(PRIVATE_BOARD, query="?split=private", label="private"),
        Probe(PRIVATE_BOARD, query="?split=concealed&division=closed", label="concealed"),
        Probe(everyone(404), query="?split=nonsense", label="no such split"),
        Probe(expect(404, 404, 404, 404, 200, 200), kwargs=_unpublished, label="unpublished"),
    ],
    "leaderboards:task_json": [
        Probe(everyone(200)),
        Probe(PRIVATE_BOARD, query="?split=private", label="private"),
        Probe(PRIVATE_BOARD, query="?split=concealed&division=closed", label="concealed"),
        Probe(expect(404, 404, 404, 404, 200, 200), kwargs=_unpublished, label="unpublished"),
    ],
    "leaderboards:task_history_json": [
        Probe(everyone(200)),
        Probe(PRIVATE_BOARD, query="?split=private", label="private"),
        Probe(PRIVATE_BOARD, query="?split=concealed&division=closed", label="concealed"),
        Probe(expect(404, 404, 404, 404, 200, 200), kwargs=_unpublished, label="unpublished"),
    ],
    "leaderboards:task_csv": [
        Probe(everyone(200)),
        Probe(PRIVATE_BOARD, query="?split=private", label="private"),
    ],
    "leaderboards:challenge": [Probe(everyone(200)), Probe(PRIVATE_BOARD, query="?split=private", label="private")],
    "leaderboards:challenge_csv": [
        Probe(everyone(200)),
        Probe(PRIVATE_BOARD, query="?split=private", label="private"),
    ],
    "leaderboards:exports": [
        Probe(ORGANIZER_PAGE),
        Probe(expect(LOGIN, 403, 403, 200, 403, 200), kwargs=_other, label="other challenge"),
        _post(expect(LOGIN, 403, 403, 403, 302, 302)),
    ],
    "leaderboards:export_download": [
        Probe(expect(LOGIN, 404, 404, 404, 200, 200)),
        Probe(everyone(404) | {"anonymous": LOGIN}, kwargs=_other_export, label="another challenge's export"),
        Probe(expect(LOGIN, 404, 404, 200, 404, 200), kwargs=_other_export_there, label="other challenge"),
    ],
    # --- ratchets (issue 14): whoever sees the challenge sees a ratchet and its rounds; validators validate and
    # see the live items' payloads (never their own team's); the organizers' queue is theirs alone (404).
    "ratchets:detail": [Probe(everyone(200)), Probe(everyone(404), kwargs=_other, label="other challenge")],
    "ratchets:round": [
        Probe(everyone(200)),
        Probe(everyone(200), kwargs=_live_round, label="open round"),
        Probe(everyone(404), kwargs=_no_round, label="no such round"),
    ],
    # A refused answer comes back to the page with the service's message (B's own item included).
    "ratchets:validate": [Probe(VALIDATORS), _post(expect(LOGIN, 302, 302, 403, 302, 302), _answer_b_item)],
    "ratchets:payload": [
        Probe(ITEM_OF_B),
        Probe(ITEM_OF_A, kwargs=_a_item, label="A's"),
        Probe(ITEM_OF_NOBODY, kwargs=_gold, label="gold"),
        Probe(CLOSED_ITEM, kwargs=_closed_a_item, label="A's, closed round"),
        Probe(CLOSED_ITEM, kwargs=_closed_b_item, label="B's, closed round"),
    ],
    "ratchets:queue": [
        Probe(expect(LOGIN, 404, 404, 404, 200, 200)),
        _post(expect(LOGIN, 404, 404, 404, 302, 302), _answer_b_item),
    ],
    "backoffice:audit": [
        Probe(ORGANIZER_PAGE),
        Probe(expect(LOGIN, 403, 403, 200, 403, 200), kwargs=_other, label="other challenge"),
        Probe(expect(LOGIN, 404, 404, 404, 200, 200), kwargs=_draft, label="draft"),
    ],
    # --- the API (session authentication; tests/api covers tokens)
    "api:me": [Probe(signed_in(200, anonymous=401))],
    "api:challenges": [Probe(everyone(200))],
    "api:challenge": [Probe(everyone(200)), Probe(ORGANIZERS_OF_DRAFT, kwargs=_draft, label="draft")],
    "api:participation": [Probe(signed_in(200, anonymous=401))],
    "api:register": [
        Probe(expect(401, 405, 405, 405, 405, 405)),
        _post(expect(401, 200, 200, 201, 201, 201), lambda w: {"accept_rules": True}, as_json=True),
    ],
    # The challenge board of the API is the public one; a split asked for is ignored.
    "api:challenge-lb": [Probe(everyone(200)), Probe(everyone(200), query="?split=private", label="private")],
    "api:tasks": [Probe(everyone(200)), Probe(ORGANIZERS_OF_DRAFT, kwargs=_draft, label="draft")],
    "api:task": [Probe(everyone(200)), Probe(ORGANIZERS_OF_DRAFT, kwargs=_unpublished, label="unpublished")],
    "api:task-files": [Probe(expect(401, 200, 200, 403, 200, 200))],
    "api:task-file": [
        Probe(expect(401, 200, 200, 403, 200, 200)),
        Probe(signed_in(404, anonymous=401), kwargs=_hidden_file, label="hidden file"),
        Probe(signed_in(404, anonymous=401), kwargs=_concealed_file, label="concealed task's public file"),
    ],
    "api:task-quota": [Probe(expect(401, 200, 200, 403, 403, 403))],
    "api:submission-create": [
        Probe(expect(401, 405, 405, 405, 405, 405)),
        _post(expect(401, 201, 201, 403, 403, 403), _api_submission),
    ],
    # The API serves every split under the pages' rule; a split the caller may not see is not found.
    "api:leaderboard": [
        Probe(everyone(200)),
        Probe(PRIVATE_BOARD, query="?split=private", label="private"),
        Probe(PRIVATE_BOARD, query="?split=concealed&division=closed", label="concealed"),
        Probe(everyone(400), query="?split=nonsense", label="no such split"),
    ],
    "api:history": [
        Probe(everyone(200)),
        Probe(PRIVATE_BOARD, query="?split=private", label="private"),
        Probe(PRIVATE_BOARD, query="?split=concealed&division=closed", label="concealed"),
    ],
    "api:submissions": [Probe(signed_in(200, anonymous=401))],
    "api:submission": [
        Probe(expect(401, 200, 404, 404, 200, 200)),
        Probe(expect(401, 404, 200, 404, 200, 200), kwargs=_b_submission, label="B's"),
    ],
    "api:select-final": [
        Probe(expect(401, 405, 405, 405, 405, 405)),
        _post(API_TEAM_ACTION, lambda w: {"selected": True}, as_json=True),
    ],
    "api:withdraw": [Probe(expect(401, 405, 405, 405, 405, 405)), _post(API_TEAM_ACTION)],
    "api:matrix": [Probe(everyone(200))],
    "api:ratchets": [Probe(everyone(200)), Probe(ORGANIZERS_OF_DRAFT, kwargs=_draft, label="draft")],
    "api:ratchet": [Probe(everyone(200)), Probe(everyone(404), kwargs=_other, label="other challenge")],
    # Frozen standings exist once a round closes; the splits one may not see are left out (test_ratchet_leaks).
    "api:ratchet-standings": [
        Probe(everyone(200)),
        Probe(everyone(404), kwargs=_live_round, label="open round"),
        Probe(everyone(404), kwargs=_no_round, label="no such round"),
    ],
    "api:ratchet-next-item": [Probe(_api(VALIDATORS))],
    "api:ratchet-item-payload": [
        Probe(_api(ITEM_OF_B)),
        Probe(_api(ITEM_OF_A), kwargs=_a_item, label="A's"),
        Probe(_api(ITEM_OF_NOBODY), kwargs=_gold, label="gold"),
        Probe(_api(CLOSED_ITEM), kwargs=_closed_a_item, label="A's, closed round"),
        Probe(_api(CLOSED_ITEM), kwargs=_closed_b_item, label="B's, closed round"),
    ],
    # Answering B's item: B's own team 403, a non-validator 403; an item of a closed round takes no answer (400).
    "api:ratchet-answer": [
        Probe(expect(401, 405, 405, 405, 405, 405)),
        _post(expect(401, 200, 403, 403, 200, 200), _correct, as_json=True),
        _post(expect(401, 200, 200, 403, 200, 200), _correct, as_json=True, kwargs=_gold, label="gold"),
        _post(expect(401, 400, 400, 403, 400, 400), _correct, as_json=True, kwargs=_closed_b_item, label="closed"),
    ],
    "api:schema": [Probe(everyone(200))],
    "api:docs": [Probe(everyone(200))],
    "api:redoc": [Probe(everyone(200))],
    "api:not-found": [Probe(everyone(404)), _post(everyone(404))],
    # --- the admin's own pages (model pages: `admin_probes`)
    "admin:index": [Probe(expect(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200))],
    "admin:login": [Probe(expect(200, 200, 200, 200, 200, 302))],
    # Django sends a non-staff user from the admin's logout to its index (which asks for a staff login).
    "admin:logout": [Probe(expect(302, 302, 302, 302, 302, 405)), _post(expect(302, 302, 302, 302, 302, 302))],
    "admin:password_change": [Probe(expect(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200))],
    "admin:password_change_done": [Probe(expect(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200))],
    "admin:autocomplete": [Probe(expect(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 403))],
    "admin:jsi18n": [Probe(expect(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200))],
    "admin:view_on_site": [
        Probe(
            expect(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 404),
            kwargs=lambda w: {"content_type_id": 1, "object_id": w.challenge.pk},
        )
    ],
    "admin:app_list": [Probe(expect(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200), kwargs=lambda w: {"app_label": "auth"})],
    "admin:auth_user_password_change": [
        Probe(expect(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200), kwargs=lambda w: {"id": w.member_of_a.pk})
    ],
    "admin:challenges_challenge_import_bundle": [Probe(expect(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200))],
    "/admin/(?P<url>.*)$": [
        Probe(expect(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 404), kwargs=lambda w: {"url": "nothing/"})
    ],
}

# --- The admin's model pages, declared by rule --------------------------------------------------------------

_ADMIN_VIEW = re.compile(r"^admin:(?P<app>[a-z]+)_(?P<model>[a-z]+)_(?P<view>changelist|add|change|history|delete)$")
_ADMIN_OBJECT = re.compile(r"^/admin/(?P<app>[a-z]+)/(?P<model>[a-z]+)/<path:object_id>/$")

ADMIN_NO_ADD = {
    "accounts_apitoken",
    "ratchets_round",
    "accounts_team",
    "challenges_auditentry",
    "challenges_participation",
    "core_workerheartbeat",
    "leaderboards_export",
    "leaderboards_leaderboard",
    "submissions_score",
    "submissions_submission",
}
"""Records the platform writes itself (or participants, under the challenge's rules): staff may look, not add
(403)."""
ADMIN_NO_DELETE = {
    "accounts_team",
    "challenges_auditentry",
    "challenges_participation",
    "core_workerheartbeat",
    "leaderboards_leaderboard",
    "leaderboards_taskweight",
    "ratchets_ratchet",
    "ratchets_round",
    "submissions_score",
    "submissions_submission",
}
"""Records that are never deleted by hand: the delete page answers 403 even to staff."""


def _registered(app: str, model: str) -> type[Model] | None:
    for found in admin.site._registry:
        if (found._meta.app_label, found._meta.model_name) == (app, model):
            return found
    return None


def admin_probes(route: Route) -> list[Probe] | None:
    """The probes of a registered model's admin page (None for any other route): staff may, everyone else
    is sent to the admin's login (a non-staff user too)."""
    named, unnamed = _ADMIN_VIEW.match(route.key), _ADMIN_OBJECT.match(route.key)
    match = named or unnamed
    if match is None:
        return None
    model = _registered(match["app"], match["model"])
    if model is None:
        return None
    label = f"{match['app']}_{match['model']}"
    view = named["view"] if named else "object"
    staff: Outcome = {"object": 302}.get(view, 200)
    if (view == "add" and label in ADMIN_NO_ADD) or (view == "delete" and label in ADMIN_NO_DELETE):
        staff = 403
    kwargs = None if view in {"changelist", "add"} else _first_object(model)
    return [Probe(expect(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, staff), kwargs=kwargs)]


def _first_object(model: type[Model]) -> Kwargs:
    def kwargs(w: SecurityWorld) -> dict[str, Any]:
        found = model._default_manager.order_by("pk").first()
        assert found is not None, f"the world has no {model.__name__} for its admin pages"
        return {"object_id": found.pk}

    return kwargs


def probes_of(route: Route) -> list[Probe] | None:
    """The declared probes of a route, or None when it is declared nowhere."""
    return ACCESS.get(route.key) or admin_probes(route)


# --- Calling -----------------------------------------------------------------------------------------------


def url_of(route: Route, probe: Probe, w: SecurityWorld) -> str:
    values = {**default_kwargs(w), **(probe.kwargs(w) if probe.kwargs else {})}
    arguments = {name: values[name] for name in route.params}
    if route.key.startswith("/"):  # an unnamed route: fill its pattern
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(arguments[m[1]]), route.pattern)
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)\$?", lambda m: str(arguments[m[1]]), path)
        return path + probe.query
    return reverse(route.key, kwargs=arguments) + probe.query


def outcome_of(response: HttpResponse) -> Outcome:
    """The status, or `LOGIN` for a redirect to the site's or the admin's login page."""
    if response.status_code == 302:
        target = urlsplit(response["Location"]).path
        if target in {reverse("accounts:login"), reverse("admin:login")}:
            return LOGIN
    return response.status_code


def call(client: Client, url: str, probe: Probe, w: SecurityWorld) -> HttpResponse:
    """Make the probe's request in a savepoint that is rolled back, so that every role meets the same world."""
    data = probe.data(w) if probe.data else {}
    send = getattr(client, probe.method)
    with transaction.atomic():
        if probe.as_json:
            response: HttpResponse = send(url, json.dumps(data), content_type="application/json")
        else:
            response = send(url, data) if probe.method == "post" else send(url)
        transaction.set_rollback(True)
    return response
