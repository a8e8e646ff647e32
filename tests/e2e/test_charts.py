"""The charts as a reader sees them, in a real headless Chromium, read from the data Plotly holds: the score
history's record as a step line in the metric's direction with every submission a point named by its team, on
a date axis that reads in hours and minutes even when every point is milliseconds apart; the distribution's bins
over the scores' own range counted in whole teams from 0; axis titles naming the metric and its display scale as
the table's heading does; one sentence instead of an empty chart; charts hidden from screen readers with a
caption pointing at their table; sortable headings and tabs worked from the keyboard with a visible focus."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from apps.challenges.models import Task
from apps.divisions.models import Division
from apps.leaderboards.services import leaderboards_rebuild_for_task
from apps.submissions.models import Evaluation, Submission
from evaluators.base import chart
from tests.apps.conftest import make_scored_submission
from tests.conftest import make_user
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
T0 = (timezone.now() - dt.timedelta(days=10)).replace(microsecond=0)
SPEECH_METRIC = "Macro F1, mean over 10 seeds (\N{MULTIPLICATION SIGN}100)"


def _board_url(site: str, task: Task, query: str = "") -> str:
    return f"{site}/challenges/{task.challenge.slug}/tasks/{task.slug}/leaderboard/{query}"


def _open(browser: Browser, url: str) -> tuple[Page, list[str]]:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(url)
    return page, errors


def _plot(page: Page, chart_id: str) -> dict[str, Any]:
    """The traces and the laid-out axes of a drawn chart (waits for it: the history is fetched apart)."""
    page.wait_for_function(f"() => document.getElementById('{chart_id}').data !== undefined")
    found: dict[str, Any] = page.evaluate(
        """(id) => {
            const el = document.getElementById(id);
            // A long title is broken into lines to fit: read as one line.
            const axis = (a) => ({type: a.type, range: a.range, title: a.title.text.replaceAll("<br>", " "),
                dtick: a.dtick, tick0: a.tick0, tickformat: a.tickformat});
            return {data: JSON.parse(JSON.stringify(el.data)), x: axis(el._fullLayout.xaxis),
                y: axis(el._fullLayout.yaxis)};
        }""",
        chart_id,
    )
    return found


def _trace(plot: dict[str, Any], name: str) -> dict[str, Any]:
    return next(trace for trace in plot["data"] if trace.get("name") == name)


def _at(moment: dt.datetime) -> str:
    """A moment as the chart's x values hold it (UTC, to the millisecond)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.000")


def _history_board(task: Task, division: Division) -> None:
    """alice 0.50 (day 0), bob 0.40 (day 1), bob 0.70 (day 2), alice 0.60 (day 3); a baseline 0.65 (day -1)."""
    alice, bob = make_user("alice"), make_user("bob")
    points = [(make_user("organizers"), 0.65, -1, True), (alice, 0.5, 0, False), (bob, 0.4, 1, False)]
    points += [(bob, 0.7, 2, False), (alice, 0.6, 3, False)]
    for user, primary, day, baseline in points:
        make_scored_submission(
            task=task,
            division=division,
            user=user,
            primary=primary,
            created_at=T0 + dt.timedelta(days=day),
            baseline=baseline,
        )
    Submission.objects.filter(task=task, is_baseline=True).update(method_description="zero baseline")
    leaderboards_rebuild_for_task(task=task)


def test_the_history_steps_through_the_record_and_names_every_submissions_team(
    transactional_db: None, site: str, browser: Browser, speech_task: Task, open_division: Division
) -> None:
    _history_board(speech_task, open_division)
    page, errors = _open(browser, _board_url(site, speech_task))

    plot = _plot(page, "chart-history")

    record = _trace(plot, "record (best so far)")
    assert record["line"]["shape"] == "hv"
    days = [T0 + dt.timedelta(days=day) for day in (0, 2, 3)]
    assert record["x"] == [_at(moment) for moment in days]  # held on to the latest submission
    assert record["y"] == pytest.approx([50.0, 70.0, 70.0])
    assert [team for _, team in record["customdata"]] == ["alice", "bob", "bob"]
    points = _trace(plot, "submissions")
    assert points["text"] == ["alice", "bob", "bob", "alice"]
    assert points["customdata"] == ["50.00", "40.00", "70.00", "60.00"]  # as the table formats them
    assert _trace(plot, "baselines")["y"] == pytest.approx([65.0])
    assert (plot["x"]["type"], plot["x"]["title"], plot["y"]["title"]) == ("date", "Submitted (UTC)", SPEECH_METRIC)
    expect(page.locator("#history-body tr")).to_have_count(2)
    expect(page.locator("#history-body tr td.team")).to_have_text(["alice", "bob"])
    expect(page.locator("#leaderboard-head th[data-key=primary]")).to_have_text(SPEECH_METRIC)
    # Nothing in a drawing hidden from screen readers takes the keyboard's focus (no mode bar buttons).
    assert page.locator(".chart[aria-hidden=true] :is(button, a[href], input, [tabindex])").count() == 0
    assert not errors, errors


def test_the_distribution_bins_the_teams_scores_over_their_range_and_counts_whole_teams(
    transactional_db: None, site: str, browser: Browser, speech_task: Task, open_division: Division
) -> None:
    _history_board(speech_task, open_division)
    page, errors = _open(browser, _board_url(site, speech_task))

    plot = _plot(page, "chart-distribution")

    bars = plot["data"][0]
    # The teams' bests, 60 and 70 (x100), in five bins of 2 from 60; the baseline is a dotted line, not a bar.
    assert sum(bars["y"]) == 2
    assert bars["y"] == [1, 0, 0, 0, 1]
    assert bars["x"] == pytest.approx([61, 63, 65, 67, 69])
    assert plot["x"]["range"][0] <= 60 and plot["x"]["range"][1] >= 70
    assert plot["x"]["range"][1] - plot["x"]["range"][0] < 20  # the scores' range, not 0 to 100
    assert plot["x"]["title"] == SPEECH_METRIC
    assert plot["y"]["range"][0] == 0 and plot["y"]["tick0"] == 0 and plot["y"]["dtick"] == 1
    assert plot["y"]["tickformat"] == "d" and plot["y"]["title"] == "Teams"
    ranking = _plot(page, "chart-ranking")
    assert ranking["x"]["title"] == SPEECH_METRIC
    assert not errors, errors


def test_a_lower_is_better_record_steps_down_on_an_axis_of_minutes_when_points_are_milliseconds_apart(
    transactional_db: None, site: str, browser: Browser, speech_task: Task, open_division: Division
) -> None:
    task = Task.objects.create(
        challenge=speech_task.challenge,
        slug="valuation",
        title="Valuation",
        evaluator_slug="valuation",
        ml_task=Task.MLTask.IMAGE_CLASSIFICATION,
        config={"pairs": ["clean"]},
    )
    for index, (name, mae) in enumerate((("alice", 0.30), ("bob", 0.35), ("carol", 0.20))):
        moment = T0 + dt.timedelta(milliseconds=2 * index)
        make_scored_submission(
            task=task, division=open_division, user=make_user(name), primary=mae, metric="mae", created_at=moment
        )
    leaderboards_rebuild_for_task(task=task)
    page, errors = _open(browser, _board_url(site, task))

    plot = _plot(page, "chart-history")

    record = _trace(plot, "record (best so far)")
    assert record["y"] == pytest.approx([30.0, 20.0, 20.0])  # lower is better: only carol's 0.20 beats 0.30
    assert [team for _, team in record["customdata"]] == ["alice", "carol", "carol"]
    span_ms = page.evaluate(
        "(r) => Date.parse(r[1].replace(' ', 'T') + 'Z') - Date.parse(r[0].replace(' ', 'T') + 'Z')",
        plot["x"]["range"],
    )
    assert 3_600_000 <= span_ms <= 2 * 3_600_000  # an hour around points 4 ms apart
    assert isinstance(plot["x"]["dtick"], int | float) and plot["x"]["dtick"] >= 60_000  # ticks minutes apart
    assert plot["y"]["title"] == "Mean absolute error of the predicted accuracy (\N{MULTIPLICATION SIGN}100)"
    expect(page.locator("#chart-history-figure figcaption")).to_contain_text("lower is better")
    assert not errors, errors


def test_empty_boards_say_so_in_a_sentence_instead_of_drawing_empty_charts(
    transactional_db: None, site: str, browser: Browser, speech_task: Task, open_division: Division
) -> None:
    page, errors = _open(browser, _board_url(site, speech_task))
    expect(page.locator("#charts-empty")).to_have_text("No submission has been scored on this board yet.")
    expect(page.locator("#charts")).to_be_hidden()
    challenge_page, challenge_errors = _open(browser, f"{site}/challenges/{speech_task.challenge.slug}/leaderboard/")
    expect(challenge_page.locator("#chart-challenge-empty")).to_be_visible()
    expect(challenge_page.locator("#chart-challenge-figure")).to_be_hidden()

    make_scored_submission(task=speech_task, division=open_division, user=make_user("o"), primary=0.4, baseline=True)
    leaderboards_rebuild_for_task(task=speech_task)
    page.reload()

    # Only a baseline: the ranking and the history have a point to draw, the teams' distribution has none.
    expect(page.locator("#chart-distribution-empty")).to_be_visible()
    expect(page.locator("#chart-distribution-figure")).to_be_hidden()
    expect(page.locator("#charts-empty")).to_be_hidden()
    assert len(_plot(page, "chart-ranking")["data"][0]["x"]) == 1
    assert len(_plot(page, "chart-history")["data"]) == 1  # the baseline's marker alone: no record yet
    # Every drawing is hidden from screen readers, and its caption points at the table that holds its numbers.
    assert page.locator(".chart:not([aria-hidden=true])").count() == 0
    for caption in page.locator("figure.chart-figure figcaption").all_inner_texts():
        assert "table" in caption, caption
    assert not errors + challenge_errors, errors + challenge_errors


def test_sortable_headings_and_tabs_work_from_the_keyboard_with_a_visible_focus(
    transactional_db: None, site: str, browser: Browser, speech_task: Task, open_division: Division
) -> None:
    _history_board(speech_task, open_division)
    page, errors = _open(browser, _board_url(site, speech_task))
    expect(page.locator("#leaderboard-body tr")).to_have_count(3)

    page.keyboard.press("Tab")
    for _ in range(60):  # Tab through the page, as a keyboard user does, to the Team heading
        if page.evaluate("document.activeElement.closest('th') && document.activeElement.textContent") == "Team":
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    team = page.locator("#leaderboard-head th[data-key=team]")
    expect(team).to_have_attribute("aria-sort", "ascending")
    expect(page.locator("#leaderboard-body td.team")).to_contain_text(["alice", "bob", "zero baseline"])
    # The headings were rebuilt: the focus is back on the same button, so the next key reverses the order.
    assert page.evaluate("document.activeElement.closest('th').dataset.key") == "team"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press(" ")
    expect(team).to_have_attribute("aria-sort", "descending")

    page.keyboard.press("Shift+Tab")
    for _ in range(60):  # back up to the division tab
        if page.evaluate("!!document.activeElement.closest('.tabs')"):
            break
        page.keyboard.press("Shift+Tab")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    expect(page.locator(".tabs a[aria-current=page]")).to_have_text("Open")
    page.keyboard.press("Enter")
    page.wait_for_url("**/leaderboard/?division=open")
    assert not errors, errors


def test_a_submissions_page_shows_its_rank_and_its_charts_with_their_numbers(
    transactional_db: None, site: str, browser: Browser, registered: User, speech_task: Task, open_division: Division
) -> None:
    submission = make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.5)
    make_scored_submission(task=speech_task, division=open_division, user=make_user("zoe"), primary=0.9)
    leaderboards_rebuild_for_task(task=speech_task)
    details = {"charts": [chart("line", "Accuracy curve", [10, 20, 30], [0.5, 0.6, 0.7], x_label="items")]}
    details["charts"].append(chart("bar", "Per class", [], []))
    Evaluation.objects.filter(submission=submission).update(details=details)
    assert Submission.objects.get(pk=submission.pk).current_evaluation is not None
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, site, registered.username)
    page.goto(f"{site}/submissions/{submission.pk}/")

    expect(page.locator("#standing")).to_have_text("#2 of 2 on the public board.")
    figure = page.locator("#charts figure.chart-figure")
    expect(figure).to_have_count(1)
    expect(figure.locator(".chart[aria-hidden=true]")).to_have_count(1)
    assert figure.locator(".chart .main-svg").count() > 0, "the chart was not drawn"
    expect(figure.locator("figcaption")).to_contain_text("the table below the chart holds the same numbers")
    expect(figure.locator("table tbody tr")).to_have_count(3)
    expect(page.locator("#charts .chart-empty")).to_have_text("Per class: nothing to draw for this submission.")
    assert not errors, errors
