"""The validation page in a real headless Chromium, from the keyboard alone: three items answered with one key
each (C; I, a number key and Enter; F, a typed reason and Enter), and the answers found in the database."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Page, expect

from apps.challenges.models import Challenge
from apps.challenges.services import participation_register
from apps.divisions.models import Division
from apps.ratchets.models import Answer, Item
from tests.apps.conftest import make_scored_submission
from tests.apps.ratchets.factories import make_item, make_ratchet, make_round
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def _items(challenge: Challenge, maker: User, division: Division) -> list[Item]:
    """Three pending items of another team (bob's), each claiming "iv"."""
    ratchet = make_ratchet(challenge)
    round_ = make_round(ratchet)
    participation_register(challenge=challenge, user=maker, accept_rules=True)
    submission = make_scored_submission(task=ratchet.test_task, division=division, user=maker, primary=1.0)
    return [make_item(round_, submission, claimed="iv") for _ in range(3)]


def _shown_item(page: Page) -> int:
    return int(page.locator("#answer-correct input[name=item]").input_value())


def _answered(page: Page, count: int) -> None:
    """Wait for the page that comes back after the answer: it counts one more."""
    expect(page.locator("#validation-progress strong").first).to_have_text(str(count))


def test_a_validator_answers_three_items_from_the_keyboard(
    site: str,
    browser: Browser,
    challenge: Challenge,
    registered: User,
    other_participant: User,
    open_division: Division,
) -> None:
    items = _items(challenge, other_participant, open_division)
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, site, registered.username)
    page.goto(f"{site}/challenges/{challenge.slug}/ratchets/roman/validate/")
    expect(page.locator("#keys-help")).to_be_visible()
    assert page.evaluate("document.getElementById('item-image').naturalWidth") == 32

    first = _shown_item(page)
    page.keyboard.press("c")
    _answered(page, 1)
    expect(page.locator(".messages li")).to_have_text("Recorded: correct.")

    second = _shown_item(page)
    page.keyboard.press("i")
    expect(page.locator("#answer-incorrect input[type=radio]").first).to_be_focused()
    page.keyboard.press("3")
    expect(page.locator("#answer-incorrect input[value=iii]")).to_be_checked()
    page.keyboard.press("Enter")
    _answered(page, 2)
    expect(page.locator(".messages li")).to_have_text("Recorded: incorrect, the right label is iii.")

    third = _shown_item(page)
    page.keyboard.press("f")
    expect(page.locator("#flag-reason")).to_be_focused()
    page.keyboard.type("a copy of a pool image")  # its letters (c, i, f) are text here, not answers
    page.keyboard.press("Enter")
    _answered(page, 3)
    expect(page.locator("#nothing-left")).to_be_visible()

    answers = Answer.objects.filter(user=registered).values_list("item_id", "verdict", "label", "reason")
    assert sorted(answers) == sorted(
        [
            (first, "correct", "", ""),
            (second, "incorrect", "iii", ""),
            (third, "flag", "", "a copy of a pool image"),
        ]
    )
    assert {first, second, third} == {item.pk for item in items}
    assert not errors, errors
