"""A crawler signed in as participant A (tests/security/crawler.py): from the home page, the challenge pages, the
task's files, A's submissions, every route of the private board, the API's entry points and the ratchet (its
pages, validation, the live items' payloads, its two tasks), and a few URLs of things A must not reach (B's
submissions, hidden files, the audit log, an export, the draft challenge, the closed round's items, the
organizers' queue), it follows
every same-site link and every URL in JSON answers, downloads every file (opening zips and reading their
members), and checks that nothing it got holds a marker of the security world, a private, concealed or
whole-set score, a private board's row, or the bytes of a hidden file.
"""

from __future__ import annotations

import json

import pytest
import yaml
from django.urls import reverse

from evaluators.splits import PRIVATE_FRACTION_KEY
from tests.security.conftest import Marker, Secret, SecurityWorld, sha256
from tests.security.crawler import (
    MAX_PAGES,
    REFUSED,
    SHAKE_UP,
    Crawl,
    Scanner,
    body_of,
    forbidden,
    full_crawl,
    leaks,
    parts,
    private_routes,
    ratchet_routes,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def crawl(security_world: SecurityWorld) -> Crawl:
    return full_crawl(security_world)


def test_nothing_participant_a_can_reach_holds_a_secret(security_world: SecurityWorld, crawl: Crawl) -> None:
    assert leaks(security_world, crawl) == []


def test_the_crawl_reached_the_pages_files_and_api_a_participant_uses(
    security_world: SecurityWorld, crawl: Crawl
) -> None:
    """Against a vacuous pass: the crawl got A's pages, the public files (one by one, as a zip, through the
    API), A's submissions (page, status JSON, API), the API's JSON and the ratchet as a validator uses it (its
    pages, validation, the live items' payloads, both tasks); and the refusals it met were refusals."""
    w, slug, task = security_world, security_world.challenge.slug, security_world.task.slug
    ok = {url for url, status in crawl.statuses.items() if status == 200}
    public = w.base.public_file
    expected = {
        reverse("challenges:task_data_zip", args=[slug, task]),
        reverse("challenges:task_data", args=[slug, task, public.pk]),
        f"/api/v1/challenges/{slug}/tasks/{task}/files/{public.pk}/",
        reverse("submissions:detail", args=[w.submission_a.pk]),
        reverse("submissions:status", args=[w.submission_a.pk]),
        reverse("submissions:status", args=[w.submission_a_closed.pk]),
        f"/api/v1/challenges/{slug}/tasks/{task}/",
        f"/api/v1/challenges/{slug}/tasks/{task}/files/",
        reverse("leaderboards:task_json", args=[slug, task]),
        reverse("leaderboards:task_history_json", args=[slug, task]),
        f"/api/v1/submissions/{w.submission_a.pk}/",
        reverse("accounts:team", args=[w.team_a_named.pk]),
        "/static/vendor/plotly.min.js",
        *ratchet_routes(w),
    }
    reached = {url.split("?")[0] for url in ok}
    assert expected <= reached, sorted(expected - reached)
    assert 60 < len(crawl.bodies) < MAX_PAGES, "raise MAX_PAGES: the crawl stopped before it ended"
    downloaded = {sha256(part) for url, body in crawl.bodies.items() for _, part in parts(url, body)}
    assert public.sha256 in downloaded
    # The task's config reached A, split fraction and all (the seed left out: no leak above says so).
    files = json.loads(crawl.bodies[f"/api/v1/challenges/{slug}/tasks/{task}/files/"])
    task_yaml = dict(parts("zip", crawl.bodies[reverse("challenges:task_data_zip", args=[slug, task])]))
    assert files["config"][PRIVATE_FRACTION_KEY] == 0.5
    assert yaml.safe_load(task_yaml[f"zip!{task}/task.yaml"])["config"][PRIVATE_FRACTION_KEY] == 0.5
    refused = {url: crawl.statuses[url] for url in forbidden(w)}
    assert all(status in {403, 404} for status in refused.values()), refused


def test_every_route_of_the_private_board_refuses_participant_a_before_the_reveal(
    security_world: SecurityWorld, crawl: Crawl
) -> None:
    """The page, its JSON, CSV and history, the challenge board and its CSV, the API's board and history, all
    asked for the private split: a refusal (the API answers 400 for a split it does not name), or a 200 that
    holds no secret."""
    scanner = Scanner(security_world)
    answers = {url: crawl.statuses[url] for url in private_routes(security_world)}
    leaked = {
        url: [str(leak) for leak in scanner.scan(url, crawl.bodies[url])]
        for url, status in answers.items()
        if status not in REFUSED
    }
    assert all(status in REFUSED or status == 200 for status in answers.values()), answers
    assert leaked == {url: [] for url in leaked}


def test_the_secrets_are_there_for_the_organizers(security_world: SecurityWorld) -> None:
    """The markers are real: the organizers see what participant A must not."""
    w, organizer = security_world, security_world.client("organizer")
    audit = organizer.get(reverse("backoffice:audit", args=[w.challenge.slug])).text
    closed = organizer.get(reverse("submissions:detail", args=[w.submission_a_closed.pk])).text
    registrations = organizer.get(reverse("challenges:registrations", args=[w.challenge.slug])).text
    export = organizer.get(reverse("leaderboards:export_download", args=[w.challenge.slug, w.export.pk]))
    assert Marker.AUDIT in audit
    assert Marker.ORGANIZER_DETAIL in closed and Marker.CONCEALED_STDERR in closed
    assert Marker.PENDING_EMAIL in registrations
    assert Marker.EXPORT.encode() in body_of(export)


def test_the_private_split_is_there_for_the_organizers(security_world: SecurityWorld) -> None:
    """The split's secrets are real: the private board with its shake-up (B ahead on the private part, A on
    the public one), a submission's private and whole-set values and its sealed chart of private units, and the
    seed in the task's admin page."""
    w, organizer = security_world, security_world.client("organizer")
    private = organizer.get(reverse("leaderboards:task_json", args=[w.challenge.slug, w.task.slug]) + "?split=private")
    rows = [(row["rank"], row["primary"], row["public_rank"]) for row in private.json()["rows"]]
    assert rows == [(1, Secret.B_PRIVATE, 2), (2, Secret.A_PRIVATE, 1)]
    names = {leak.what for leak in Scanner(w).scan("the private board", private.content)}
    assert {"B_PRIVATE", "A_PRIVATE", SHAKE_UP} <= names
    page = organizer.get(reverse("submissions:status", args=[w.submission_b.pk]))
    assert {"B_PRIVATE", "B_WHOLE_SET", "PRIVATE_UNIT"} <= {leak.what for leak in Scanner(w).scan("B", page.content)}
    admin = w.client("staff").get(reverse("admin:challenges_task_change", args=[w.task.pk]))
    assert Marker.SPLIT_SEED in admin.text
