"""Every page within two clicks of the home page, as a visitor, the demo participant and the demo organizer, in
headless Chromium at a phone's width: no serious or critical axe-core finding (WCAG 2 A/AA), nothing wider than
the screen, no console error, no missing resource (tests/e2e/accessibility.py). The world is the demo, built from
its bundle on small data: the quick benchmarks and the Roman-numeral ratchet."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, BrowserContext

from apps.demo.bundle import demo_bundle_write
from apps.demo.services import ORGANIZER, PARTICIPANT, demo_create
from tests.conftest import required
from tests.e2e.accessibility import AXE, PHONE, Crawl, crawl_from_home, report
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
BENCHMARKS = ("budget-cleaning", "valuation", "training-set-creation", "adversarial-test-set")


@pytest.fixture
def demo(transactional_db: None, tmp_path_factory: pytest.TempPathFactory) -> None:
    required("axe-core (`make browser` vendors it from the npm registry)", None if AXE.exists() else f"no {AXE}")
    bundle = demo_bundle_write(target=tmp_path_factory.mktemp("a11y") / "demo.zip", benchmarks=BENCHMARKS, small=True)
    demo_create(bundle=bundle)


def _context(browser: Browser, base: str, credentials: tuple[str, str] | None) -> BrowserContext:
    context = browser.new_context(viewport=PHONE)
    context.add_init_script(path=AXE)
    if credentials is not None:
        page = context.new_page()
        log_in(page, base, *credentials)
        page.close()
    return context


def test_every_page_within_two_clicks_passes_axe_fits_a_phone_and_logs_no_error(
    demo: None,
    site: str,
    browser: Browser,
) -> None:
    crawls = []
    for role, credentials in (("visitor", None), ("participant", PARTICIPANT), ("organizer", ORGANIZER)):
        context = _context(browser, site, credentials)
        crawls.append(crawl_from_home(Crawl(role, site), context.new_page()))
        context.close()

    assert [problem for crawl in crawls for problem in crawl.problems] == [], report(crawls)
    # Against a vacuous pass: the routes each role's crawl checked.
    routes = {crawl.role: set(crawl.per_route) for crawl in crawls}
    common = {"challenges:list", "challenges:detail", "leaderboards:matrix", "leaderboards:challenge"}
    assert common | {"challenges:task", "leaderboards:task", "ratchets:detail"} <= routes["visitor"], routes
    assert common | {"submissions:list", "accounts:teams", "accounts:tokens"} <= routes["participant"], routes
    assert {"admin:index", "backoffice:audit", "challenges:registrations"} <= routes["organizer"], routes


BROKEN_HOME = """<!doctype html><html lang="en"><head><title>Broken on purpose</title></head><body><main>
<h1>Broken on purpose</h1>
<p style="color: #bbb; background: #fff">Grey on white, 1.9:1.</p>
<div style="width: 600px">Wider than a phone.</div>
<img src="/static/img/no-such-image.png" alt="missing">
<a href="/accounts/login/">Log in</a>
<script>console.error("broken on purpose")</script>
</main></body></html>"""


def test_the_crawl_reports_each_kind_of_problem(site: str, browser: Browser) -> None:
    """Against a vacuous pass: a home page broken on purpose (served in place of the real one) yields each kind
    of problem the crawl looks for, and the crawl still follows its link."""
    required("axe-core (`make browser` vendors it from the npm registry)", None if AXE.exists() else f"no {AXE}")
    context = _context(browser, site, None)
    page = context.new_page()
    page.route(f"{site}/", lambda route: route.fulfill(status=200, content_type="text/html", body=BROKEN_HOME))

    crawl = crawl_from_home(Crawl("visitor", site), page)
    context.close()

    found = {(problem.url.removeprefix(site), problem.kind, problem.detail.split(" ")[0]) for problem in crawl.problems}
    assert found == {
        ("/", "axe", "color-contrast"),
        ("/", "width", "608"),  # the div and the body's margin
        ("/", "console", "broken"),
        ("/", "console", "Failed"),
        ("/", "resource", "404"),
    }, report([crawl])
    assert f"{site}/accounts/login/" in crawl.checked
