"""A crawler signed in as participant A: from the home page, the challenge pages, the API's entry points and a
few URLs of things A must not reach (B's submissions, hidden files, the audit log, an export, the draft
challenge), it follows every same-site link (a, link, img, script, data-url and data-history-url, GET forms,
redirects) and every URL in JSON answers, downloads every file (opening zips and reading their members), and
checks that nothing it got holds a marker of the security world, a private or concealed score, or the bytes of
a hidden file.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import reverse

from tests.security.conftest import Marker, Secret, SecurityWorld, sha256

pytestmark = pytest.mark.django_db

MAX_PAGES = 500
LINK_ATTRIBUTES = {"href", "src", "action", "data-url", "data-history-url"}


class _Links(HTMLParser):
    """The same-site URLs of a page: links, stylesheets, images, scripts, data-url and GET forms' actions."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and (values.get("method") or "get").lower() != "get":
            return
        if tag == "form" and not values.get("action"):
            self.found.append("")
        self.found += [value for name, value in attrs if name in LINK_ATTRIBUTES and value]


def _html_links(text: str) -> list[str]:
    parser = _Links()
    parser.feed(text)
    return parser.found


def _json_links(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _json_links(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_links(item)
    elif isinstance(value, str) and (value.startswith("http://testserver/") or re.match(r"^/[^/]", value)):
        yield value


def _api_links(path: str, data: Any) -> list[str]:
    """The API names its objects by slug and id, not by URL: the URLs a client would build from them (the
    submissions a leaderboard row names included, whoever's they are)."""
    links: list[str] = []
    rows = data if isinstance(data, list) else (data.get("results") or data.get("files") or [])
    if re.fullmatch(r"/api/v1/challenges/", path):
        for item in rows:
            base = f"{path}{item['slug']}/"
            links += [base, f"{base}participation/", f"{base}leaderboard/", f"{base}tasks/"]
    elif re.fullmatch(r"/api/v1/challenges/[-\w]+/tasks/", path):
        for item in rows:
            base = f"{path}{item['slug']}/"
            links += [base, f"{base}files/", f"{base}quota/", f"{base}leaderboard/", f"{base}leaderboard/history/"]
    elif path.endswith("/files/") or re.fullmatch(r"/api/v1/submissions/", path):
        links += [f"{path}{item['id']}/" for item in rows]
    for submission_id in _values_of(data, "submission_id"):
        links += [f"/api/v1/submissions/{submission_id}/", f"/submissions/{submission_id}/"]
    return links


def _values_of(value: Any, key: str) -> Iterator[Any]:
    if isinstance(value, dict):
        for name, item in value.items():
            if name == key:
                yield item
            yield from _values_of(item, key)
    elif isinstance(value, list):
        for item in value:
            yield from _values_of(item, key)


def _same_site(base: str, link: str) -> str | None:
    """The path and query of `link` (relative to `base`) if it stays on this site, else None."""
    parts = urlsplit(urljoin(f"http://testserver{base}", link.strip()))
    if parts.scheme not in {"http", "https"} or parts.netloc != "testserver":
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class Crawl:
    client: Client
    queue: deque[str] = field(default_factory=deque)
    seen: set[str] = field(default_factory=set)
    bodies: dict[str, bytes] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)

    def add(self, url: str | None) -> None:
        if url is not None and url not in self.seen:
            self.seen.add(url)
            self.queue.append(url)

    def run(self) -> None:
        while self.queue and len(self.bodies) < MAX_PAGES:
            url = self.queue.popleft()
            response = self.client.get(url)
            body = _body(response)
            self.bodies[url], self.statuses[url] = body, response.status_code
            for link in self._links(url, response, body):
                self.add(_same_site(url, link))
                self._add_private_variants(_same_site(url, link))

    def _links(self, url: str, response: HttpResponseBase, body: bytes) -> list[str]:
        if response.status_code in {301, 302, 303, 307, 308}:
            return [response["Location"]]
        content_type = response.get("Content-Type", "")
        if "text/html" in content_type:
            return _html_links(body.decode(errors="replace"))
        if "json" in content_type and body:
            data = json.loads(body)
            return [*_json_links(data), *_api_links(url.split("?")[0], data)]
        return []

    def _add_private_variants(self, url: str | None) -> None:
        """Every leaderboard found is also asked for with the splits A may not see yet."""
        if url and "leaderboard" in url and not url.startswith("/static/"):
            path = url.split("?")[0]
            for query in ("?split=private", "?split=concealed", "?split=concealed&division=closed"):
                self.add(path + query)


def _body(response: HttpResponseBase) -> bytes:
    if isinstance(response, StreamingHttpResponse):
        # The test client closes the response once its content is consumed, as a WSGI server would.
        return response.getvalue()
    assert isinstance(response, HttpResponse)
    return response.content


def _parts(name: str, body: bytes) -> Iterator[tuple[str, bytes]]:
    """The body, and the members of a zip (recursively)."""
    yield name, body
    if body.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            for member in archive.namelist():
                yield from _parts(f"{name}!{member}", archive.read(member))


def _secret_patterns() -> dict[str, re.Pattern[bytes]]:
    """How each private or concealed value could be printed, not inside a longer number (a timestamp's digits)."""
    patterns = {}
    for name, value in Secret.all().items():
        forms = [repr(value), f"{value:.4f}", f"{value:.3f}", f"{value * 100:.2f}", f"{value * 100:.1f}"]
        alternatives = "|".join(re.escape(form) for form in forms)
        patterns[name] = re.compile(rf"(?<![\d.])(?:{alternatives})(?!\d)".encode())
    return patterns


def _hidden_chunks(w: SecurityWorld) -> dict[bytes, str]:
    """Three 64-byte slices of every large hidden file: finding one in a download means the file leaked."""
    chunks = {}
    for data_file in w.hidden_files:
        content = data_file.file.open("rb").read()
        data_file.file.close()
        if len(content) >= 1024:
            for at in (len(content) // 4, len(content) // 2, 3 * len(content) // 4):
                chunks[content[at : at + 64]] = data_file.relative_path
    return chunks


def _entry_points(w: SecurityWorld) -> list[str]:
    slug, task = w.challenge.slug, w.task.slug
    return [
        "/",
        reverse("challenges:detail", args=[slug]),
        reverse("challenges:detail", args=[w.other_challenge.slug]),
        reverse("challenges:task", args=[slug, task]),
        reverse("leaderboards:challenge", args=[slug]),
        reverse("submissions:list"),
        "/api/v1/me/",
        "/api/v1/challenges/",
        "/api/v1/submissions/",
        "/api/v1/benchmarks/",
        "/api/schema/",
        "/api/redoc/",
        f"/api/v1/challenges/{slug}/leaderboard/",
    ]


def _forbidden(w: SecurityWorld) -> list[str]:
    """URLs of what A must not reach, whatever the links say."""
    slug, task = w.challenge.slug, w.task.slug
    hidden_ids = [data_file.pk for data_file in w.hidden_files]
    return [
        reverse("submissions:detail", args=[w.submission_b.pk]),
        reverse("submissions:status", args=[w.submission_b.pk]),
        reverse("submissions:detail", args=[w.submission_b_disqualified.pk]),
        f"/api/v1/submissions/{w.submission_b.pk}/",
        reverse("accounts:team", args=[w.team_b_named.pk]),
        reverse("backoffice:audit", args=[slug]),
        reverse("challenges:registrations", args=[slug]),
        reverse("leaderboards:exports", args=[slug]),
        reverse("leaderboards:export_download", args=[slug, w.export.pk]),
        reverse("challenges:detail", args=[w.base.draft.slug]),
        reverse("challenges:task", args=[slug, w.base.unpublished.slug]),
        f"/api/v1/challenges/{slug}/tasks/{w.base.unpublished.slug}/",
        *(reverse("challenges:task_data", args=[slug, task, file_id]) for file_id in hidden_ids),
        *(f"/api/v1/challenges/{slug}/tasks/{task}/files/{file_id}/" for file_id in hidden_ids),
    ]


@pytest.fixture
def crawl(security_world: SecurityWorld) -> Crawl:
    crawl = Crawl(client=security_world.client("participant_a"))
    for url in [*_entry_points(security_world), *_forbidden(security_world)]:
        crawl.add(url)
    crawl.run()
    return crawl


def _leaks(w: SecurityWorld, crawl: Crawl) -> list[str]:
    markers = {name: value.encode() for name, value in Marker.all().items()}
    secrets, chunks, digests = _secret_patterns(), _hidden_chunks(w), w.hidden_digests()
    found = []
    for url, body in crawl.bodies.items():
        for name, part in _parts(url, body):
            found += [f"{name}: marker {marker}" for marker, value in markers.items() if value in part]
            found += [f"{name}: bytes of hidden {path}" for chunk, path in chunks.items() if chunk in part]
            if sha256(part) in digests:
                found.append(f"{name}: the whole hidden file {digests[sha256(part)]}")
            if not url.startswith("/static/"):
                found += [f"{name}: the {value} score" for value, pattern in secrets.items() if pattern.search(part)]
    return found


def test_nothing_participant_a_can_reach_holds_a_secret(security_world: SecurityWorld, crawl: Crawl) -> None:
    assert _leaks(security_world, crawl) == []


def test_the_crawl_reached_the_pages_files_and_api_a_participant_uses(
    security_world: SecurityWorld, crawl: Crawl
) -> None:
    """Against a vacuous pass: the crawl got A's pages, the public files (one by one, as a zip, through the
    API), A's submissions and the API's JSON; and the refusals it met were refusals."""
    w, slug, task = security_world, security_world.challenge.slug, security_world.task.slug
    ok = {url for url, status in crawl.statuses.items() if status == 200}
    public = w.base.public_file
    expected = {
        reverse("challenges:task_data_zip", args=[slug, task]),
        reverse("challenges:task_data", args=[slug, task, public.pk]),
        f"/api/v1/challenges/{slug}/tasks/{task}/files/{public.pk}/",
        reverse("submissions:detail", args=[w.submission_a.pk]),
        reverse("submissions:status", args=[w.submission_a_closed.pk]),
        reverse("leaderboards:task_json", args=[slug, task]),
        reverse("leaderboards:task_history_json", args=[slug, task]),
        f"/api/v1/submissions/{w.submission_a.pk}/",
        reverse("accounts:team", args=[w.team_a_named.pk]),
        "/static/vendor/plotly.min.js",
    }
    reached = {url.split("?")[0] for url in ok}
    assert expected <= reached, sorted(expected - reached)
    assert 60 < len(crawl.bodies) < MAX_PAGES, "raise MAX_PAGES: the crawl stopped before it ended"
    downloaded = {sha256(part) for url, body in crawl.bodies.items() for _, part in _parts(url, body)}
    assert public.sha256 in downloaded
    refused = {url: crawl.statuses[url] for url in _forbidden(w)}
    assert all(status in {403, 404} for status in refused.values()), refused


def test_the_secrets_are_there_for_the_organizers(security_world: SecurityWorld) -> None:
    """The markers are real: the organizers see what participant A must not."""
    w, organizer = security_world, security_world.client("organizer")
    audit = organizer.get(reverse("backoffice:audit", args=[w.challenge.slug])).text
    closed = organizer.get(reverse("submissions:detail", args=[w.submission_a_closed.pk])).text
    registrations = organizer.get(reverse("challenges:registrations", args=[w.challenge.slug])).text
    export = organizer.get(reverse("leaderboards:export_download", args=[w.challenge.slug, w.export.pk]))
    private = organizer.get(reverse("leaderboards:task_json", args=[w.challenge.slug, w.task.slug]) + "?split=private")
    assert Marker.AUDIT in audit
    assert Marker.ORGANIZER_DETAIL in closed and Marker.CONCEALED_STDERR in closed
    assert Marker.PENDING_EMAIL in registrations
    assert Marker.EXPORT.encode() in _body(export)
    assert _secret_patterns()["B_PRIVATE"].search(private.content)
