"""A participant never sees private scores (before they are revealed), hidden (concealed) splits, or another
team's files, through any leaderboard page, JSON, CSV or export."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from apps.challenges.models import Challenge, ConcealedVisibility, Task
from apps.divisions.models import Division
from apps.jobs.tasks import export_submissions
from apps.leaderboards import exports
from apps.leaderboards.services import leaderboards_rebuild_for_task
from apps.submissions.models import Score, Submission
from tests.apps.conftest import PRIMARY, make_scored_submission
from tests.apps.leaderboards.conftest import add_private_score, challenge_url, client_for, end_challenge, task_url

pytestmark = pytest.mark.django_db
PRIVATE_VALUE = 0.987654321
CONCEALED_VALUE = 0.123456789
SECRETS = ["0.987654321", "98.7654321", "0.123456789", "12.3456789", "bob-artifact.json", "cafe" * 16, "factory/"]


@pytest.fixture
def secrets(
    speech_task: Task,
    open_division: Division,
    closed_division: Division,
    registered: User,
    bob: User,
    organizer: User,
) -> Submission:
    """bob's submissions: public scores, a private score, and a concealed score in the closed division (shown to
    organizers only); alice has a public row of her own."""
    Task.objects.filter(pk=speech_task.pk).update(
        concealed_config=speech_task.config, concealed_visibility=ConcealedVisibility.ORGANIZERS
    )
    speech_task.refresh_from_db()
    make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.5)
    bobs = make_scored_submission(task=speech_task, division=open_division, user=bob, primary=0.7)
    add_private_score(bobs, PRIVATE_VALUE)
    closed = make_scored_submission(task=speech_task, division=closed_division, user=bob, primary=0.6)
    assert closed.current_evaluation is not None
    Score.objects.create(
        evaluation=closed.current_evaluation, split=Score.Split.CONCEALED, metric=PRIMARY, value=CONCEALED_VALUE
    )
    for submission in (bobs, closed):
        Submission.objects.filter(pk=submission.pk).update(
            artifact_name="bob-artifact.json", artifact_sha256="cafe" * 16
        )
    leaderboards_rebuild_for_task(task=speech_task)
    return bobs


def _public_urls(task: Task, challenge: Challenge) -> list[str]:
    urls = []
    for division in ("open", "closed"):
        urls += [task_url(name, task, division=division) for name in ("task", "task_json", "task_csv")]
        urls += [challenge_url(name, challenge, division=division) for name in ("challenge", "challenge_csv")]
    api = f"/api/v1/challenges/{challenge.slug}/"
    return [*urls, api + "leaderboard/", *(api + f"tasks/{task.slug}/leaderboard/{end}" for end in ("", "history/"))]


def _hidden_urls(task: Task, challenge: Challenge, *, private: bool = True) -> list[str]:
    urls = [task_url(name, task, division="closed", split="concealed") for name in ("task", "task_json", "task_csv")]
    if private:
        urls += [task_url(name, task, split="private") for name in ("task", "task_json", "task_csv")]
        urls += [challenge_url(name, challenge, split="private") for name in ("challenge", "challenge_csv")]
    return urls


def _body(client: Client, url: str) -> str:
    response = client.get(url)
    content = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
    return f"{response.status_code} {content.decode(errors='replace')}"


def _leaks(client: Client, urls: list[str]) -> dict[str, list[str]]:
    found = {url: [secret for secret in SECRETS if secret in _body(client, url)] for url in urls}
    return {url: secrets for url, secrets in found.items() if secrets}


@pytest.mark.parametrize("viewer", ["participant", "anonymous"])
def test_no_public_page_json_csv_or_api_shows_a_private_or_concealed_score_or_a_file(
    secrets: Submission, speech_task: Task, challenge: Challenge, registered: User, viewer: str
) -> None:
    client = client_for(registered if viewer == "participant" else None)

    assert _leaks(client, _public_urls(speech_task, challenge)) == {}


def test_the_private_and_concealed_boards_are_not_found_for_a_participant(
    secrets: Submission, speech_task: Task, challenge: Challenge, registered: User
) -> None:
    client = client_for(registered)

    assert {url: client.get(url).status_code for url in _hidden_urls(speech_task, challenge)} == dict.fromkeys(
        _hidden_urls(speech_task, challenge), 404
    )


def test_after_the_end_the_private_split_shows_but_the_concealed_one_stays_hidden(
    secrets: Submission, speech_task: Task, challenge: Challenge, registered: User
) -> None:
    end_challenge(challenge)
    client = client_for(registered)

    private = client.get(task_url("task_json", speech_task, split="private")).json()
    assert [row["primary"] for row in private["rows"]] == [PRIVATE_VALUE]
    assert {client.get(url).status_code for url in _hidden_urls(speech_task, challenge, private=False)} == {404}
    assert "0.123456789" not in _body(client, challenge_url("challenge", challenge, split="private"))


def test_the_organizers_see_the_private_and_concealed_boards(
    secrets: Submission, speech_task: Task, challenge: Challenge, organizer: User
) -> None:
    client = client_for(organizer)

    assert "0.987654321" in _body(client, task_url("task_json", speech_task, split="private"))
    assert "0.123456789" in _body(client, task_url("task_json", speech_task, division="closed", split="concealed"))


def test_a_participant_gets_no_export_and_no_export_file(
    secrets: Submission, challenge: Challenge, organizer: User, registered: User
) -> None:
    export = exports.export_request(challenge=challenge, user=organizer)
    export_submissions(export.pk)
    client = client_for(registered)
    urls = [challenge_url("exports", challenge), challenge_url("exports", challenge) + f"{export.pk}/download/"]

    assert [client.get(url).status_code for url in urls] == [403, 404]
    assert _leaks(client, urls) == {}
