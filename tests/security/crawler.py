"""The crawler of the security tests and the leak scanner it reports with.

`Crawl`, signed in as some role, starts from a few URLs and follows every same-site link (a, link, img, script,
data-url and data-history-url, GET forms, redirects) and every URL in JSON answers, asks for every leaderboard
also with the splits participant A may not see yet, and keeps every body it got. `Scanner` looks in any bytes
(a body, the members of a zip, a file, an e-mail) for a marker of the security world, a secret score as it could
be printed, a private board's row (its `public_rank`: the shake-up) or the bytes of a hidden file. The tests
inject leaks into single routes and check that the scanner then names them, so that a pass means something.
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

from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import reverse

from tests.security.conftest import Marker, Secret, SecurityWorld, sha256

MAX_PAGES = 500
LINK_ATTRIBUTES = {"href", "src", "action", "data-url", "data-history-url"}
REFUSED = {400, 403, 404}
"""What a refusal may answer: 400 for a split the API does not name, 403 or 404 for one the user may not see."""
SHAKE_UP = "PUBLIC_RANK"
"""What a private board's row names: its public rank, set on private boards only (null elsewhere)."""
_SHAKE_UP = re.compile(rb'"public_rank":\s*\d')


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
    """The bodies and statuses of every URL reached from those added; `follow=False` fetches only those."""

    client: Client
    follow: bool = True
    queue: deque[str] = field(default_factory=deque)
    seen: set[str] = field(default_factory=set)
    bodies: dict[str, bytes] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)

    def add(self, url: str | None) -> None:
        if url is not None and url not in self.seen:
            self.seen.add(url)
            self.queue.append(url)

    def run(self) -> Crawl:
        while self.queue and len(self.bodies) < MAX_PAGES:
            url = self.queue.popleft()
            response = self.client.get(url)
            body = body_of(response)
            self.bodies[url], self.statuses[url] = body, response.status_code
            if not self.follow:
                continue
            for link in self._links(url, response, body):
                self.add(_same_site(url, link))
                self._add_private_variants(_same_site(url, link))
        return self

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


def crawl_urls(client: Client, urls: list[str], *, follow: bool = True) -> Crawl:
    crawl = Crawl(client=client, follow=follow)
    for url in urls:
        crawl.add(url)
    return crawl.run()


def body_of(response: HttpResponseBase) -> bytes:
    if isinstance(response, StreamingHttpResponse):
        # The test client closes the response once its content is consumed, as a WSGI server would.
        return response.getvalue()
    assert isinstance(response, HttpResponse)
    return response.content


def parts(name: str, body: bytes) -> Iterator[tuple[str, bytes]]:
    """The body, and the members of a zip (recursively)."""
    yield name, body
    if body.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            for member in archive.namelist():
                yield from parts(f"{name}!{member}", archive.read(member))


def secret_patterns() -> dict[str, re.Pattern[bytes]]:
    """How each secret value could be printed (`Secret.printed`), not inside a longer number (a timestamp's
    digits)."""
    patterns = {}
    for name, value in Secret.all().items():
        alternatives = "|".join(re.escape(form) for form in Secret.printed(value))
        patterns[name] = re.compile(rf"(?<![\d.])(?:{alternatives})(?!\d)".encode())
    return patterns


@dataclass(frozen=True)
class Leak:
    where: str
    what: str
    """The name of the marker or secret (`Marker`, `Secret`), `SHAKE_UP`, or the hidden file's path."""
    detail: str

    def __str__(self) -> str:
        return f"{self.where}: {self.detail}"


class Scanner:
    """Finds what participant A must not see in any bytes, the members of zips included."""

    def __init__(self, w: SecurityWorld) -> None:
        self.markers = {name: [form.encode() for form in Marker.forms(name)] for name in Marker.all()}
        self.secrets = secret_patterns()
        self.chunks = _hidden_chunks(w)
        self.digests = w.hidden_digests()

    def scan(self, where: str, data: bytes, *, values: bool = True) -> list[Leak]:
        """Every leak in `data`. `values=False` (static assets) looks only for markers and hidden bytes: a
        library's numbers may print like a secret score."""
        found = []
        for name, part in parts(where, data):
            found += [Leak(name, m, f"marker {m}") for m, forms in self.markers.items() if _any_in(forms, part)]
            found += [Leak(name, p, f"bytes of hidden {p}") for chunk, p in self.chunks.items() if chunk in part]
            if (digest := sha256(part)) in self.digests:
                found.append(Leak(name, self.digests[digest], f"the whole hidden file {self.digests[digest]}"))
            if values:
                found += [
                    Leak(name, s, f"the {s} score") for s, pattern in self.secrets.items() if pattern.search(part)
                ]
                if _SHAKE_UP.search(part):
                    found.append(Leak(name, SHAKE_UP, "a private board's row (its public_rank)"))
        return found

    def crawled(self, crawl: Crawl) -> list[Leak]:
        found = []
        for url, body in crawl.bodies.items():
            found += self.scan(url, body, values=not url.startswith("/static/"))
        return found


def _any_in(forms: list[bytes], data: bytes) -> bool:
    return any(form in data for form in forms)


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


def leaks(w: SecurityWorld, crawl: Crawl) -> list[str]:
    """Every leak of the crawl, as text."""
    return [str(leak) for leak in Scanner(w).crawled(crawl)]


# --- Where the crawl starts ---------------------------------------------------------------------------------


def private_routes(w: SecurityWorld) -> list[str]:
    """Every route that serves a private board, asked for its private split."""
    slug, task = w.challenge.slug, w.task.slug
    api = f"/api/v1/challenges/{slug}/tasks/{task}/leaderboard/"
    return [
        *(
            reverse(f"leaderboards:{name}", args=[slug, task]) + "?split=private"
            for name in ("task", "task_json", "task_csv", "task_history_json")
        ),
        reverse("leaderboards:challenge", args=[slug]) + "?split=private",
        reverse("leaderboards:challenge_csv", args=[slug]) + "?split=private",
        f"{api}?split=private",
        f"{api}history/?split=private",
    ]


def submission_routes(w: SecurityWorld) -> list[str]:
    """A's own submissions, on every route that shows one: the page, the status JSON it polls, the API."""
    routes = []
    for submission in (w.submission_a, w.submission_a_closed):
        routes += [
            reverse("submissions:detail", args=[submission.pk]),
            reverse("submissions:status", args=[submission.pk]),
            f"/api/v1/submissions/{submission.pk}/",
        ]
    return routes


def task_routes(w: SecurityWorld) -> list[str]:
    """Where a participant gets the task's config and files: the page, the zip, the API's task and files."""
    slug, task = w.challenge.slug, w.task.slug
    return [
        reverse("challenges:task", args=[slug, task]),
        reverse("challenges:task_data_zip", args=[slug, task]),
        f"/api/v1/challenges/{slug}/tasks/{task}/",
        f"/api/v1/challenges/{slug}/tasks/{task}/files/",
    ]


def ratchet_routes(w: SecurityWorld) -> list[str]:
    """The ratchet as validator A uses it: its page, its rounds (the closed one's frozen boards, the private one
    asked for too), validation (page and API) with the live items' payloads, and both tasks' pages and files."""
    slug, roman = w.challenge.slug, w.roman
    ratchet = [slug, roman.ratchet.slug]
    api = f"/api/v1/challenges/{slug}/ratchets/{roman.ratchet.slug}/"
    routes = [
        reverse("ratchets:detail", args=ratchet),
        *(reverse("ratchets:round", args=[*ratchet, r.number]) for r in (roman.closed, roman.live)),
        reverse("ratchets:validate", args=ratchet),
        f"/api/v1/challenges/{slug}/ratchets/",
        api,
        f"{api}rounds/{roman.closed.number}/standings/",
        f"{api}next-item/",
    ]
    for item in (roman.item_b, roman.gold):
        routes += [reverse("ratchets:payload", args=[*ratchet, item.pk]), f"{api}items/{item.pk}/payload/"]
    for task in (roman.ratchet.training_task, roman.ratchet.test_task):
        routes += [
            reverse("challenges:task", args=[slug, task.slug]),
            reverse("challenges:task_data_zip", args=[slug, task.slug]),
            f"/api/v1/challenges/{slug}/tasks/{task.slug}/",
            f"/api/v1/challenges/{slug}/tasks/{task.slug}/files/",
        ]
    return routes


def entry_points(w: SecurityWorld) -> list[str]:
    slug = w.challenge.slug
    return [
        "/",
        reverse("challenges:detail", args=[slug]),
        reverse("challenges:detail", args=[w.other_challenge.slug]),
        reverse("leaderboards:challenge", args=[slug]),
        reverse("submissions:list"),
        "/api/v1/me/",
        "/api/v1/challenges/",
        "/api/v1/submissions/",
        "/api/v1/benchmarks/",
        "/api/schema/",
        "/api/redoc/",
        f"/api/v1/challenges/{slug}/leaderboard/",
        *task_routes(w),
        *submission_routes(w),
        *private_routes(w),
        *ratchet_routes(w),
    ]


def _hidden_file_urls(w: SecurityWorld) -> list[str]:
    """Every hidden file, through the page's download and the API's, under its own task."""
    slug, urls = w.challenge.slug, []
    for data_file in w.hidden_files:
        task = data_file.task.slug
        urls += [
            reverse("challenges:task_data", args=[slug, task, data_file.pk]),
            f"/api/v1/challenges/{slug}/tasks/{task}/files/{data_file.pk}/",
        ]
    return urls


def forbidden_items(w: SecurityWorld) -> list[str]:
    """The items whose payload A may not fetch (page and API): A's own team's live item, and both teams' items of
    the closed round."""
    slug, ratchet = w.challenge.slug, w.roman.ratchet.slug
    api = f"/api/v1/challenges/{slug}/ratchets/{ratchet}/items/"
    urls = []
    for item in (w.roman.item_a, w.roman.closed_a, w.roman.closed_b):
        urls += [reverse("ratchets:payload", args=[slug, ratchet, item.pk]), f"{api}{item.pk}/payload/"]
    return urls


def forbidden(w: SecurityWorld) -> list[str]:
    """URLs of what A must not reach, whatever the links say."""
    slug = w.challenge.slug
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
        reverse("ratchets:queue", args=[slug, w.roman.ratchet.slug]),
        *_hidden_file_urls(w),
        *forbidden_items(w),
    ]


def full_crawl(w: SecurityWorld, role: str = "participant_a") -> Crawl:
    """Everything the role reaches from the entry points, and what it gets for the forbidden URLs."""
    return crawl_urls(w.client(role), [*entry_points(w), *forbidden(w)])
