"""The participant's side of private splits on the pages: a submission's public, private and whole-set metrics
(each to whom may see them), the final-selection and withdrawal forms on its page, the marks on "my
submissions", and what the task page says of the split."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.challenges.models import Challenge, Task
from apps.divisions.models import Division
from apps.submissions.models import Submission
from tests.apps.conftest import make_scored_submission
from tests.apps.submissions.split_data import SPLIT_SEED, add_split_scores, give_private_split

pytestmark = pytest.mark.django_db


@pytest.fixture
def split_task(speech_task: Task) -> Task:
    return give_private_split(speech_task, fraction=0.25)


@pytest.fixture
def scored(split_task: Task, open_division: Division, participant: User) -> Submission:
    submission = make_scored_submission(task=split_task, division=open_division, user=participant, primary=0.5)
    add_split_scores(submission, private=0.41, whole=0.47)
    return submission


def _get(user: User | None, url: str) -> str:
    client = Client()
    if user is not None:
        client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _page(user: User, submission: Submission) -> str:
    return _get(user, reverse("submissions:detail", args=[submission.pk]))


def _embedded_metrics(page: str) -> dict[str, Any]:
    found = re.search(r'<script id="status-data" type="application/json">(.*?)</script>', page, re.S)
    assert found is not None
    metrics = json.loads(found[1])["metrics"]
    assert isinstance(metrics, dict)
    return metrics


def _primary(part: dict[str, Any] | None) -> float | None:
    return None if part is None else part["primary"]["value"]


def _end(challenge: Challenge) -> None:
    Challenge.objects.filter(pk=challenge.pk).update(ends_at=timezone.now() - dt.timedelta(minutes=1))


def test_while_the_challenge_runs_the_team_sees_the_public_part_only_and_is_told_why(
    scored: Submission, participant: User
) -> None:
    page = _page(participant, scored)
    metrics = _embedded_metrics(page)

    assert (_primary(metrics), metrics["private"], metrics["whole_set"]) == (0.5, None, None)
    assert 'data-private-percent="25"' in page and 'data-private-pending="1"' in page
    assert "0.41" not in page and "0.47" not in page and str(SPLIT_SEED) not in page


def test_an_organizer_sees_the_private_part_and_the_whole_set_at_once(scored: Submission, organizer: User) -> None:
    page = _page(organizer, scored)
    metrics = _embedded_metrics(page)

    assert (_primary(metrics), _primary(metrics["private"]), _primary(metrics["whole_set"])) == (0.5, 0.41, 0.47)
    assert 'data-private-percent="25"' in page and "data-private-pending" not in page


def test_the_team_sees_the_private_part_and_the_whole_set_once_the_challenge_has_ended(
    scored: Submission, participant: User, challenge: Challenge
) -> None:
    _end(challenge)

    metrics = _embedded_metrics(_page(participant, scored))

    assert (_primary(metrics["private"]), _primary(metrics["whole_set"])) == (0.41, 0.47)
    assert [m["name"] for m in metrics["private"]["metrics"]] == [m["name"] for m in metrics["metrics"]]


def test_a_task_without_a_split_labels_no_part(speech_task: Task, open_division: Division, participant: User) -> None:
    submission = make_scored_submission(task=speech_task, division=open_division, user=participant, primary=0.5)

    page = _page(participant, submission)

    assert "data-private-percent" not in page and "data-private-pending" not in page
    assert _embedded_metrics(page)["private"] is None


def test_the_team_is_offered_to_select_and_to_withdraw_with_the_count_and_the_warning(
    scored: Submission, participant: User
) -> None:
    page = _page(participant, scored)

    assert 'id="final-choices"' in page
    assert "<strong>0 of 2</strong> final submissions selected for this task in the Open division." in page
    assert "Select as final" in page and "Clear final selection" not in page
    assert f'action="{reverse("jobs:final", args=[scored.pk])}"' in page
    assert f'action="{reverse("jobs:withdraw", args=[scored.pk])}"' in page
    assert "It cannot be undone, and the quota it used is not refunded." in page
    assert 'name="confirm" value="yes" required' in page
    assert page.count('name="csrfmiddlewaretoken"') >= 2  # the two forms (and the log-out button)


def test_a_selected_submission_offers_to_clear_and_lists_the_teams_selections(
    scored: Submission, participant: User, split_task: Task, open_division: Division
) -> None:
    other = make_scored_submission(task=split_task, division=open_division, user=participant, primary=0.6)
    Submission.objects.filter(pk__in=[scored.pk, other.pk]).update(is_selected_final=True)

    page = _page(participant, scored)

    assert "Clear final selection" in page and "Select as final" not in page
    count = "<strong>2 of 2</strong> final submissions selected for this task in the Open division"
    assert f"{count}: #{scored.pk} (this one)" in page
    assert f'<a href="{reverse("submissions:detail", args=[other.pk])}">#{other.pk}</a>' in page
    assert 'id="selected-final"' in page


def test_with_every_selection_made_the_page_says_to_clear_one_first(
    scored: Submission, participant: User, split_task: Task, open_division: Division
) -> None:
    chosen = [
        make_scored_submission(task=split_task, division=open_division, user=participant, primary=value)
        for value in (0.6, 0.7)
    ]
    Submission.objects.filter(pk__in=[s.pk for s in chosen]).update(is_selected_final=True)

    page = _page(participant, scored)

    assert "Your team has selected as many as it may: clear one of them first." in page


def _choices_offered(user: User, submission: Submission) -> bool:
    return 'id="final-choices"' in _page(user, submission)


def test_an_organizer_who_is_not_in_the_team_is_offered_no_choice(scored: Submission, organizer: User) -> None:
    assert not _choices_offered(organizer, scored)


@pytest.mark.parametrize(
    "change",
    [
        {"is_withdrawn": True},
        {"is_disqualified": True},
        {"status": Submission.Status.REJECTED},
        {"status": Submission.Status.FAILED},
        {"is_baseline": True},
    ],
)
def test_no_choice_is_offered_where_none_applies(scored: Submission, participant: User, change: dict[str, Any]) -> None:
    Submission.objects.filter(pk=scored.pk).update(**change)

    assert not _choices_offered(participant, scored)


def test_a_submission_being_scored_may_already_be_chosen(scored: Submission, participant: User) -> None:
    Submission.objects.filter(pk=scored.pk).update(status=Submission.Status.QUEUED)

    assert _choices_offered(participant, scored)


def test_no_choice_is_offered_once_the_challenge_has_ended(
    scored: Submission, participant: User, challenge: Challenge
) -> None:
    _end(challenge)

    assert not _choices_offered(participant, scored)


def test_a_withdrawn_submission_says_so(scored: Submission, participant: User) -> None:
    Submission.objects.filter(pk=scored.pk).update(is_withdrawn=True)

    assert "Withdrawn by its team: it ranks on no leaderboard." in _page(participant, scored)


def test_my_submissions_marks_the_selected_ones_and_counts_them_per_task_and_division(
    scored: Submission, participant: User, split_task: Task, open_division: Division, closed_division: Division
) -> None:
    other = make_scored_submission(task=split_task, division=open_division, user=participant, primary=0.6)
    closed = make_scored_submission(task=split_task, division=closed_division, user=participant, primary=0.3)
    Submission.objects.filter(pk=other.pk).update(is_selected_final=True)

    page = _get(participant, reverse("submissions:list"))

    rows = re.findall(r'<td><a href="/submissions/(\d+)/">\1</a></td>.*?<td class="final-mark">(.*?)</td>', page, re.S)
    assert dict(rows) == {
        str(scored.pk): "",
        str(other.pk): '<span class="badge final">Selected</span>',
        str(closed.pk): "",
    }
    summary = page.split('id="final-selections"')[1].split("</section>")[0]
    cells = re.findall(r"<tr>\s*<td>.*?</td>\s*<td>(\w+)</td>\s*<td>alice</td>\s*<td>(.*?)</td>", summary, re.S)
    assert dict(cells) == {
        "Closed": "0 of 2 final selections",
        "Open": f'1 of 2 final selections: <a href="/submissions/{other.pk}/">#{other.pk}</a>',
    }
    assert summary.count('<span class="badge">private leaderboard</span>') == 2


def test_my_submissions_without_any_shows_no_selections(participant: User) -> None:
    page = _get(participant, reverse("submissions:list"))

    assert 'id="final-selections"' not in page and "No submissions yet." in page


def test_the_task_page_states_the_split_and_the_selections_but_never_the_seed(
    split_task: Task, participant: User
) -> None:
    page = _get(None, reverse("challenges:task", args=[split_task.challenge.slug, split_task.slug]))

    assert (
        "25% of the evaluation data is held out for the private leaderboard, revealed when the challenge ends" in page
    )
    assert "Select up to 2 final submissions per division" in page
    assert str(SPLIT_SEED) not in page


def test_the_task_page_of_a_task_without_a_split_says_nothing_of_one(speech_task: Task) -> None:
    Task.objects.filter(pk=speech_task.pk).update(final_selections=3)

    page = _get(None, reverse("challenges:task", args=[speech_task.challenge.slug, speech_task.slug]))

    assert 'id="private-split"' not in page and 'id="final-selections"' not in page


def test_the_task_page_states_the_selected_final_rule(speech_task: Task) -> None:
    Task.objects.filter(pk=speech_task.pk).update(ranking_rule=Task.RankingRule.SELECTED_FINAL, final_selections=3)

    page = _get(None, reverse("challenges:task", args=[speech_task.challenge.slug, speech_task.slug]))

    assert (
        "The leaderboard ranks each team by the best of its submissions selected as final (up to 3 per division" in page
    )
