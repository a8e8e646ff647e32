"""A submission's page in a real headless Chromium: the metrics of a task with a private split as its script
draws them (the public part, the private part and the whole set to whom may see them), and the team's
final-selection and withdrawal forms, which work without any script."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Page, expect

from apps.challenges.models import Task
from apps.divisions.models import Division
from apps.submissions.models import Submission
from tests.apps.conftest import make_scored_submission
from tests.apps.submissions.split_data import add_split_scores, give_private_split
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def _split_submissions(task: Task, division: Division, user: User) -> list[Submission]:
    give_private_split(task, fraction=0.5)
    made = []
    for primary in (0.5, 0.7):
        submission = make_scored_submission(task=task, division=division, user=user, primary=primary)
        add_split_scores(submission, private=primary - 0.1, whole=primary - 0.05)
        made.append(submission)
    return made


def _open(page: Page, base: str, user: User, submission: Submission, errors: list[str]) -> None:
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, base, user.username)
    page.goto(f"{base}/submissions/{submission.pk}/")


def test_a_team_sees_the_public_part_and_selects_clears_and_withdraws_on_the_page(
    site: str,
    browser: Browser,
    registered: User,
    speech_task: Task,
    open_division: Division,
) -> None:
    submission, _ = _split_submissions(speech_task, open_division, registered)
    page = browser.new_page()
    errors: list[str] = []
    _open(page, site, registered, submission, errors)

    expect(page.locator("#metrics h4")).to_have_text(["Public part"])
    expect(page.locator("#public-part-note")).to_have_text(
        "Computed on 50% of the evaluation data: the other 50% is held out for the final, private ranking."
    )
    expect(page.locator("#metrics-public tr").first).to_contain_text("0.500000")
    expect(page.locator("#private-pending")).to_be_visible()
    expect(page.locator("#metrics-private, #metrics-whole-set")).to_have_count(0)

    page.click("#final-choices button:text('Select as final')")
    expect(page.locator(".messages")).to_have_text(
        f"Submission #{submission.pk} is selected as final (1 of 2 selected for this task in this division)."
    )
    expect(page.locator("#final-count")).to_contain_text("1 of 2")
    page.click("#final-choices button:text('Clear final selection')")
    expect(page.locator("#final-count")).to_contain_text("0 of 2")

    page.click("#withdraw summary")
    page.click("#withdraw button")  # the box is not ticked: the browser does not send the form
    expect(page.locator("#withdraw input[name=confirm]")).to_be_visible()
    assert not Submission.objects.filter(is_withdrawn=True).exists()
    page.check("#withdraw input[name=confirm]")
    page.click("#withdraw button")
    expect(page.locator("#withdrawn")).to_have_text("Withdrawn by its team: it ranks on no leaderboard.")
    expect(page.locator("#final-choices")).to_have_count(0)
    assert list(Submission.objects.filter(is_withdrawn=True).values_list("pk", flat=True)) == [submission.pk]
    assert not errors, errors


def test_an_organizer_sees_the_private_part_and_the_whole_set_drawn(
    site: str,
    browser: Browser,
    registered: User,
    organizer: User,
    speech_task: Task,
    open_division: Division,
) -> None:
    submission, _ = _split_submissions(speech_task, open_division, registered)
    page = browser.new_page()
    errors: list[str] = []
    _open(page, site, organizer, submission, errors)

    expect(page.locator("#metrics h4")).to_have_text(["Public part", "Private part", "Whole evaluation set"])
    expect(page.locator("#metrics-private tr").first).to_contain_text("0.400000")
    expect(page.locator("#metrics-whole-set tr").first).to_contain_text("0.450000")
    expect(page.locator("#private-pending, #final-choices")).to_have_count(0)
    assert not errors, errors
