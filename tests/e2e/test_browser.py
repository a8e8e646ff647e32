"""In a real headless Chromium: log in, submit through the form, and watch the leaderboard gain the row
without reloading it (the page polls its JSON and redraws)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, expect

from apps.challenges.models import Task
from apps.divisions.models import Division
from tests.e2e.conftest import Process, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_a_participant_submits_in_the_browser_and_sees_the_row_appear_without_reloading(
    site: str,
    browser: Browser,
    registered: User,
    speech_task: Task,
    open_division: Division,
    speech_selections: dict[str, dict[str, Any]],
    start_worker: Callable[[], Process],
    tmp_path: Path,
) -> None:
    worker = start_worker()
    base = site
    context = browser.new_context()
    errors: list[str] = []
    board = context.new_page()
    board.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(board, base, registered.username)
    board.goto(f"{base}/challenges/{speech_task.challenge.slug}/tasks/{speech_task.slug}/leaderboard/")
    expect(board.locator("#leaderboard-body")).to_contain_text("No scored submissions yet")
    board.evaluate("window.__notReloaded = true")

    selection = tmp_path / "selection.json"
    selection.write_text(json.dumps(speech_selections["random-balanced"]))
    form = context.new_page()
    form.goto(f"{base}/challenges/{speech_task.challenge.slug}/tasks/{speech_task.slug}/submit/")
    form.set_input_files("input[name=artifact]", str(selection))
    form.fill("textarea[name=method_description]", "class-balanced random selection")
    form.click("#submission-form button[type=submit]")
    expect(form.locator("#status-label")).to_have_text("Scored", timeout=90_000)

    row = board.locator("#leaderboard-body tr", has_text=registered.username)
    expect(row).to_have_count(1, timeout=30_000)
    expect(row.locator("td.rank")).to_have_text("1")
    assert board.evaluate("window.__notReloaded === true"), "the leaderboard page was reloaded"
    assert board.locator("#chart-ranking .main-svg").count() > 0, "the ranking chart was not drawn"
    assert not errors, errors
    assert "'scored'" in worker.log()
    context.close()


def test_a_malformed_upload_shows_the_precise_message_in_the_browser(
    site: str, browser: Browser, registered: User, speech_task: Task, tmp_path: Path
) -> None:
    page = browser.new_page()
    log_in(page, site, registered.username)
    bad = tmp_path / "bad.json"
    bad.write_text('{"targets": {"episode": []}, "nontargets": [')
    page.goto(f"{site}/challenges/{speech_task.challenge.slug}/tasks/{speech_task.slug}/submit/")
    page.set_input_files("input[name=artifact]", str(bad))
    page.fill("textarea[name=method_description]", "broken on purpose")
    page.click("#submission-form button[type=submit]")
    expect(page.locator("#rejection")).to_contain_text("was rejected")
    expect(page.locator("#rejection .message")).to_contain_text("line 1")
