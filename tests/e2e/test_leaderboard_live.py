"""In a real headless Chromium: an open task leaderboard shows a new score within 5 s without reloading (it
polls its JSON with If-None-Match), keeps the viewer's column sort, the private tab shows the shake-up (columns
a screen reader can read, and a chart) and updates live for an organizer, and the challenge leaderboard re-ranks
in the browser when the viewer changes a task weight."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Page, expect

from apps.challenges.models import Challenge, Task
from apps.divisions.models import Division
from apps.leaderboards.services import leaderboards_rebuild_for_submission
from tests.apps.conftest import make_scored_submission
from tests.apps.leaderboards.conftest import add_private_score
from tests.conftest import PASSWORD, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def _log_in(page: Page, base: str, user: User) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".who")).to_have_text(user.username)


def _score(task: Task, division: Division, user: User, primary: float) -> None:
    """A score lands: the evaluation and its boards' rebuild, committed (the live server reads them)."""
    submission = make_scored_submission(task=task, division=division, user=user, primary=primary)
    leaderboards_rebuild_for_submission(submission=submission)


def test_a_new_score_reaches_an_open_leaderboard_within_5_seconds_without_reloading(
    transactional_db: None, site: str, browser: Browser, registered: User, speech_task: Task, open_division: Division
) -> None:
    _score(speech_task, open_division, make_user("zed"), 0.4)
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _log_in(page, site, registered)
    page.goto(f"{site}/challenges/{speech_task.challenge.slug}/tasks/{speech_task.slug}/leaderboard/")
    expect(page.locator("#leaderboard-body tr")).to_have_count(1)
    page.click("#leaderboard-head th[data-key=team]")  # the viewer sorts by team name
    page.evaluate("window.__notReloaded = true")

    _score(speech_task, open_division, registered, 0.9)
    landed = time.monotonic()

    rows = page.locator("#leaderboard-body tr")
    expect(rows).to_have_count(2, timeout=5_000)
    assert time.monotonic() - landed < 5.0
    expect(rows.nth(0).locator("td.team")).to_have_text("alice")  # still sorted by name, not by rank
    expect(rows.nth(0).locator("td.rank")).to_have_text("1")
    assert page.evaluate("window.__notReloaded === true"), "the leaderboard page was reloaded"
    expect(page.locator("#chart-ranking")).to_contain_text("alice")
    assert page.locator("#chart-distribution .main-svg").count() > 0, "the distribution chart was not drawn"
    assert page.locator("#chart-history .main-svg").count() > 0, "the score-over-time chart was not drawn"
    assert not errors, errors


def _score_both(task: Task, division: Division, user: User, public: float, private: float) -> None:
    """A score lands on both parts of a task with a private split, and the task's boards are rebuilt."""
    submission = make_scored_submission(task=task, division=division, user=user, primary=public)
    add_private_score(submission, private)
    leaderboards_rebuild_for_submission(submission=submission)


def test_an_organizer_watches_the_private_tab_with_its_shake_up_update_live(
    transactional_db: None, site: str, browser: Browser, organizer: User, speech_task: Task, open_division: Division
) -> None:
    speech_task.config = {**speech_task.config, "private_fraction": 0.5, "split_seed": 424242}
    speech_task.save(update_fields=["config"])
    _score_both(speech_task, open_division, make_user("zed"), 0.9, 0.2)
    _score_both(speech_task, open_division, make_user("yan"), 0.5, 0.8)
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _log_in(page, site, organizer)
    page.goto(f"{site}/challenges/{speech_task.challenge.slug}/tasks/{speech_task.slug}/leaderboard/?split=private")
    rows = page.locator("#leaderboard-body tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#leaderboard-head th")).to_contain_text(["Rank", "Public rank", "Move", "Team"])
    # yan: public 2 -> private 1; zed: public 1 -> private 2. The move in words, not in colour alone.
    expect(rows.nth(0).locator("td.team")).to_have_text("yan")
    expect(rows.nth(0).locator("td.public-rank")).to_have_text("2")
    expect(rows.nth(0).locator("td.move")).to_contain_text("▲ 1")
    expect(rows.nth(0).locator("td.move .visually-hidden")).to_have_text("up 1 place")
    expect(rows.nth(1).locator("td.move .visually-hidden")).to_have_text("down 1 place")
    expect(page.locator("#chart-shakeup")).to_contain_text("yan")
    page.evaluate("window.__notReloaded = true")

    _score_both(speech_task, open_division, make_user("xia"), 0.7, 0.95)

    expect(rows).to_have_count(3, timeout=5_000)
    expect(rows.nth(0).locator("td.team")).to_have_text("xia")
    expect(rows.nth(0).locator("td.move .visually-hidden")).to_have_text("up 1 place")
    expect(page.locator("#chart-shakeup")).to_contain_text("xia")
    assert page.evaluate("window.__notReloaded === true"), "the leaderboard page was reloaded"
    assert not errors, errors


def test_the_challenge_board_re_ranks_in_the_browser_when_a_weight_changes(
    transactional_db: None,
    site: str,
    browser: Browser,
    registered: User,
    challenge: Challenge,
    speech_task: Task,
    open_division: Division,
) -> None:
    second = Task.objects.create(
        challenge=challenge,
        slug="second",
        title="Second",
        evaluator_slug=speech_task.evaluator_slug,
        ml_task=speech_task.ml_task,
        config=speech_task.config,
        order=1,
    )
    zed = make_user("zed")
    _score(speech_task, open_division, registered, 0.9)
    _score(speech_task, open_division, zed, 0.1)
    _score(second, open_division, zed, 0.8)
    _score(second, open_division, registered, 0.7)
    _score(second, open_division, make_user("yan"), 0.2)
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{site}/challenges/{challenge.slug}/leaderboard/")
    teams = page.locator("#challenge-board-body td.team")
    # Equal weights: alice 1 and 5/6 -> 0.917, zed 0 and 1 -> 0.5, yan 0 and 0 -> 0.
    expect(teams).to_have_text(["alice", "zed", "yan"])
    page.evaluate("window.__notReloaded = true")

    page.fill(f"#weight-{speech_task.pk}", "0")

    expect(teams).to_have_text(["zed", "alice", "yan"])
    expect(page.locator("#weights-state")).to_contain_text("your weights")
    page.click("#weights-reset")
    expect(teams).to_have_text(["alice", "zed", "yan"])
    assert page.evaluate("window.__notReloaded === true")
    assert not errors, errors
