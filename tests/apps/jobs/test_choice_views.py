"""The submission page's forms for a team's choices (apps/jobs/views.py): select as final, clear, withdraw.
Each posts to the pipeline's services and comes back to the submission's page with a message."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import TeamMembership
from apps.challenges.models import Challenge, Task
from apps.divisions.models import Division
from apps.leaderboards.models import LeaderboardEntry
from apps.leaderboards.services import leaderboards_rebuild_for_task
from apps.submissions.models import Submission
from tests.apps.conftest import make_scored_submission, team_of
from tests.apps.submissions.split_data import add_split_scores, give_private_split

pytestmark = pytest.mark.django_db


def _client(user: User, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


@dataclass(frozen=True)
class Answer:
    """Where a form's post led (followed to the end), the messages and the text of the page shown there."""

    redirects: list[tuple[str, int]]
    messages: list[str]
    text: str


def _post(client: Client, url: str, data: dict[str, str]) -> Answer:
    response = client.post(url, data, follow=True)
    messages = [str(message) for message in response.context["messages"]]
    return Answer(response.redirect_chain, messages, response.content.decode())


def _final(client: Client, submission: Submission, selected: str = "1") -> Answer:
    return _post(client, reverse("jobs:final", args=[submission.pk]), {"selected": selected})


def _withdraw(client: Client, submission: Submission, confirm: str | None = "yes") -> Answer:
    data = {"confirm": confirm} if confirm is not None else {}
    return _post(client, reverse("jobs:withdraw", args=[submission.pk]), data)


def _selected() -> set[int]:
    return set(Submission.objects.filter(is_selected_final=True).values_list("pk", flat=True))


@pytest.fixture
def scored(speech_task: Task, open_division: Division, participant: User) -> list[Submission]:
    """Three scored submissions of alice's team on a task with a private split (2 final selections)."""
    give_private_split(speech_task)
    made = []
    for primary in (0.5, 0.7, 0.6):
        submission = make_scored_submission(task=speech_task, division=open_division, user=participant, primary=primary)
        add_split_scores(submission, private=primary - 0.1, whole=primary - 0.05)
        made.append(submission)
    leaderboards_rebuild_for_task(task=speech_task)
    return made


def test_a_member_selects_a_submission_and_returns_to_its_page_with_the_count(
    scored: list[Submission], participant: User
) -> None:
    response = _final(_client(participant), scored[0])

    assert response.redirects == [(reverse("submissions:detail", args=[scored[0].pk]), 302)]
    assert _selected() == {scored[0].pk}
    assert response.messages == [
        f"Submission #{scored[0].pk} is selected as final (1 of 2 selected for this task in this division)."
    ]


def test_a_selection_rebuilds_the_private_board_at_once(scored: list[Submission], participant: User) -> None:
    private = LeaderboardEntry.objects.filter(leaderboard__split="private")
    assert list(private.values_list("submission_id", flat=True)) == [scored[1].pk]  # the best public one

    _final(_client(participant), scored[0])

    assert list(private.values_list("submission_id", flat=True)) == [scored[0].pk]


def test_a_member_clears_a_selection(scored: list[Submission], participant: User) -> None:
    client = _client(participant)
    _final(client, scored[0])

    response = _final(client, scored[0], selected="0")

    assert _selected() == set()
    assert response.messages == [
        f"Submission #{scored[0].pk} is no longer selected as final (0 of 2 selected for this task in this division)."
    ]


def test_a_selection_beyond_the_tasks_number_is_refused_with_the_services_message(
    scored: list[Submission], participant: User
) -> None:
    client = _client(participant)
    _final(client, scored[0])
    _final(client, scored[1])

    response = _final(client, scored[2])

    assert _selected() == {scored[0].pk, scored[1].pk}
    assert response.messages == [
        f"Your team has selected 2 final submissions for this task in this division (#{scored[0].pk}, "
        f"#{scored[1].pk}), the most it may (2): clear one of them first."
    ]


def test_a_selection_field_that_is_neither_select_nor_clear_is_a_bad_request(
    scored: list[Submission], participant: User
) -> None:
    response = _client(participant).post(reverse("jobs:final", args=[scored[0].pk]), {"selected": "yes"})

    assert response.status_code == 400
    assert _selected() == set()


def test_a_member_withdraws_a_submission_and_it_leaves_the_boards(scored: list[Submission], participant: User) -> None:
    client = _client(participant)
    _final(client, scored[1])

    response = _withdraw(client, scored[1])

    scored[1].refresh_from_db()
    assert scored[1].is_withdrawn and not scored[1].is_selected_final
    assert not LeaderboardEntry.objects.filter(submission=scored[1]).exists()
    assert response.messages[-1] == (
        f"Submission #{scored[1].pk} is withdrawn: it no longer ranks on any leaderboard. "
        "The quota it used is not refunded."
    )
    assert 'id="withdrawn"' in response.text


def test_a_withdrawal_without_the_confirmation_changes_nothing(scored: list[Submission], participant: User) -> None:
    for confirm in (None, "on"):
        response = _withdraw(_client(participant), scored[0], confirm=confirm)

        assert response.messages == ["Tick the box to confirm: a withdrawal cannot be undone. Nothing was changed."]
    assert not Submission.objects.filter(is_withdrawn=True).exists()


def test_another_participant_cannot_find_the_submission(scored: list[Submission], other_participant: User) -> None:
    client = _client(other_participant)

    assert client.post(reverse("jobs:final", args=[scored[0].pk]), {"selected": "1"}).status_code == 404
    assert client.post(reverse("jobs:withdraw", args=[scored[0].pk]), {"confirm": "yes"}).status_code == 404
    assert _selected() == set()
    assert not Submission.objects.filter(is_withdrawn=True).exists()


def test_an_organizer_sees_the_submission_but_may_not_choose_for_the_team(
    scored: list[Submission], organizer: User
) -> None:
    client = _client(organizer)

    selected = _final(client, scored[0])
    withdrawn = _withdraw(client, scored[0])

    assert selected.messages == ["Only members of team alice can select its submissions."]
    assert withdrawn.messages == ["Only members of team alice can withdraw its submissions."]
    assert _selected() == set()
    assert not Submission.objects.filter(is_withdrawn=True).exists()


def test_any_member_of_the_team_may_choose(scored: list[Submission], other_participant: User) -> None:
    TeamMembership.objects.create(team=team_of(scored[0].submitted_by), user=other_participant)

    _final(_client(other_participant), scored[0])

    assert _selected() == {scored[0].pk}


def test_once_the_challenge_has_ended_nothing_changes(
    scored: list[Submission], participant: User, challenge: Challenge
) -> None:
    Challenge.objects.filter(pk=challenge.pk).update(ends_at=timezone.now() - dt.timedelta(minutes=1))
    client = _client(participant)

    selected = _final(client, scored[0])
    withdrawn = _withdraw(client, scored[0])

    ended = "This challenge has ended: its submissions can no longer change."
    assert selected.messages == [ended] and withdrawn.messages == [ended]
    assert _selected() == set()
    assert not Submission.objects.filter(is_withdrawn=True).exists()


def test_the_forms_refuse_a_post_without_the_csrf_token(scored: list[Submission], participant: User) -> None:
    client = _client(participant, csrf=True)

    final = client.post(reverse("jobs:final", args=[scored[0].pk]), {"selected": "1"})
    withdraw = client.post(reverse("jobs:withdraw", args=[scored[0].pk]), {"confirm": "yes"})

    assert (final.status_code, withdraw.status_code) == (403, 403)
    assert _selected() == set()
    assert not Submission.objects.filter(is_withdrawn=True).exists()


def test_the_forms_work_with_the_token_the_page_gives(scored: list[Submission], participant: User) -> None:
    client = _client(participant, csrf=True)
    page = client.get(reverse("submissions:detail", args=[scored[0].pk]))
    token = page.context["csrf_token"]

    response = client.post(reverse("jobs:final", args=[scored[0].pk]), {"selected": "1", "csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert _selected() == {scored[0].pk}


@pytest.mark.parametrize("name", ["jobs:final", "jobs:withdraw"])
def test_the_forms_answer_only_posts_and_only_signed_in_users(scored: list[Submission], name: str) -> None:
    url = reverse(name, args=[scored[0].pk])

    assert Client().post(url, {"selected": "1", "confirm": "yes"})["Location"].startswith(reverse("accounts:login"))
    assert _client(scored[0].submitted_by).get(url).status_code == 405
    assert _selected() == set()
