"""The accessibility crawl of the browser tests: every page within two clicks of the home page, in Chromium.

On each HTML page, at a phone's width (375 px): axe-core (vendored by `make browser` from the npm registry,
tests/vendor/axe.min.js, added to each page by the browser context as an init script, which the site's
Content-Security-Policy does not apply to, so the policy stays as strict as it is) with the WCAG 2 A/AA rules,
findings of serious or critical impact only; the page's width (nothing wider than the screen, tables scroll in their own
box); console errors, uncaught exceptions and same-site resources that failed. A route (Django's URL name) is
checked on at most `PER_ROUTE` of its pages: the rest are the same template on other rows.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from django.urls import Resolver404, resolve
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, Response, ViewportSize

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe.min.js"
PHONE: ViewportSize = {"width": 375, "height": 812}
DEPTH = 2
PER_ROUTE = 2
SERIOUS = {"serious", "critical"}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SKIPPED_PREFIXES = ("/api/", "/static/", "/media/")
SKIPPED_ROUTES = {"accounts:logout"}
"""Not pages: the API's JSON, files, and the log-out action (a POST form that would end the session)."""


@dataclass
class Problem:
    role: str
    url: str
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.role}] {self.url}: {self.kind}: {self.detail}"


@dataclass
class Crawl:
    role: str
    base: str
    checked: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    per_route: dict[str, int] = field(default_factory=dict)

    def add(self, url: str, kind: str, detail: str) -> None:
        self.problems.append(Problem(self.role, url, kind, detail))


def _route(path: str) -> str | None:
    try:
        return resolve(path).view_name
    except Resolver404:
        return None


def _same_site_links(page: Page, base: str) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    found: list[str] = []
    for href in hrefs:
        url = urljoin(page.url, href)
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != base or parts.path.startswith(SKIPPED_PREFIXES):
            continue
        found.append(parts._replace(fragment="").geturl())
    return found


def _axe(page: Page) -> list[str]:
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", AXE_TAGS
    )
    found = []
    for violation in result["violations"]:
        if violation["impact"] in SERIOUS:
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:4]]
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']}; at {targets}")
    return found


def _too_wide(page: Page) -> str | None:
    width = page.evaluate("document.documentElement.scrollWidth")
    if width <= PHONE["width"]:
        return None
    culprits = page.evaluate(
        """limit => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > limit + 1)
            .filter(e => !e.closest('.table-scroll, .matrix-wrap, pre'))
            .slice(0, 4).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '')
                + ' (' + Math.round(e.getBoundingClientRect().right) + ' px)')""",
        PHONE["width"],
    )
    return f"{width} px wide at {PHONE['width']} px; widest: {', '.join(culprits)}"


class _Heard:
    """What the page reported while one URL loaded: console errors, uncaught exceptions, same-site resources
    that failed. Attached once to the page the crawl reuses; `reset()` before each URL."""

    def __init__(self, page: Page, base: str) -> None:
        self.url = ""
        self.errors: list[str] = []
        self.failed: list[str] = []
        page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        page.on("response", lambda response: self._response(response, base))

    def _response(self, response: Response, base: str) -> None:
        if response.status >= 400 and response.url.startswith(base) and response.url != self.url:
            self.failed.append(f"{response.status} {response.url}")

    def reset(self, url: str) -> None:
        self.url, self.errors, self.failed = url, [], []


def _check(crawl: Crawl, page: Page, heard: _Heard, url: str) -> list[str]:
    """Load `url`, check it, and return its same-site links (none when it is not an HTML page)."""
    heard.reset(url)
    try:
        response = page.goto(url, wait_until="load")
    except PlaywrightError as exc:  # a download (a file, a zip) is not a page
        if "Download is starting" in str(exc):
            return []
        raise
    if response is None or "text/html" not in (response.headers.get("content-type") or ""):
        return []
    crawl.checked.append(url)
    if response.status >= 400:
        crawl.add(url, "status", str(response.status))
    for finding in _axe(page):
        crawl.add(url, "axe", finding)
    wide = _too_wide(page)
    if wide:
        crawl.add(url, "width", wide)
    for error in heard.errors:
        crawl.add(url, "console", error)
    for resource in heard.failed:
        crawl.add(url, "resource", resource)
    return _same_site_links(page, crawl.base)


def crawl_from_home(crawl: Crawl, page: Page) -> Crawl:
    """Breadth first from the home page to `DEPTH` clicks, each route at most `PER_ROUTE` times, in one page."""
    heard = _Heard(page, crawl.base)
    queue: deque[tuple[str, int]] = deque([(crawl.base + "/", 0)])
    seen = {crawl.base + "/"}
    while queue:
        url, depth = queue.popleft()
        route = _route(urlsplit(url).path)
        if route in SKIPPED_ROUTES:
            continue
        key = route or urlsplit(url).path
        if crawl.per_route.get(key, 0) >= PER_ROUTE:
            continue
        crawl.per_route[key] = crawl.per_route.get(key, 0) + 1
        links = _check(crawl, page, heard, url)
        if depth < DEPTH:
            for link in links:
                if link not in seen:
                    seen.add(link)
                    queue.append((link, depth + 1))
    return crawl


def report(crawls: list[Crawl]) -> str:
    lines = [f"{c.role}: {len(c.checked)} pages checked" for c in crawls]
    lines += [str(problem) for c in crawls for problem in c.problems]
    return "\n".join(lines)
