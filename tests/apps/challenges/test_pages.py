"""The pages, through Django's test client: access rules, forms, downloads, caching and security headers."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from apps.accounts.models import Team
from apps.challenges.models import Challenge, Participation, Task, TaskDataFile
from apps.core.middleware import CSP
from apps.divisions.models import Division
from apps.leaderboards.models import Leaderboard
from apps.leaderboards.services import leaderboard_rebuild
from apps.submissions.models import Submission
from tests.apps.conftest import make_scored_submission
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
Selections = dict[str, dict[str, Any]]
SLUG, TASK = "speech-challenge", "speech-en-25"


def _url(name: str, *args: Any) -> str:
    return reverse(name, args=args)


def _task_url(name: str, *args: Any) -> str:
    return reverse(name, args=[SLUG, TASK, *args])


def _public_file(task: Task) -> TaskDataFile:
    return task.data_files.get(relative_path="allowed_training_set.yaml")


@pytest.fixture
def alice(client: Client, registered: User) -> Client:
    client.force_login(registered)
    return client


def test_the_challenge_list_shows_public_challenges_but_not_drafts(client: Client, challenge: Challenge) -> None:
    Challenge.objects.create(
        slug="secret", title="Secret draft", starts_at=challenge.starts_at, ends_at=challenge.ends_at
    )

    response = client.get(_url("challenges:list"))

    assert response.status_code == 200
    assert "Speech challenge" in response.text
    assert "Secret draft" not in response.text


def test_the_challenge_page_renders_its_description_and_tasks(client: Client, speech_task: Task) -> None:
    Challenge.objects.filter(slug=SLUG).update(description="Pick **clips**.<script>alert(1)</script>")

    response = client.get(_url("challenges:detail", SLUG))

    assert response.status_code == 200
    assert "Pick <strong>clips</strong>." in response.text
    assert "alert(1)" not in response.text
    assert speech_task.title in response.text


def test_the_task_page_renders_with_the_submission_format(client: Client, speech_task: Task) -> None:
    response = client.get(_task_url("challenges:task"))

    assert response.status_code == 200
    assert "allowed_training_set.yaml" in response.text


def test_the_task_page_lists_public_files_for_a_registered_participant_but_never_hidden_ones(
    alice: Client, speech_task: Task
) -> None:
    response = alice.get(_task_url("challenges:task"))

    listed = response.text.split('id="public-files"', 1)[1].split("</table>", 1)[0]
    assert _task_url("challenges:task_data", _public_file(speech_task).pk) in listed
    assert "train_embeddings/" in listed
    assert "eval.yaml" not in listed
    assert "eval_embeddings" not in listed
    for hidden in speech_task.data_files.filter(role="hidden"):
        assert _task_url("challenges:task_data", hidden.pk) not in response.text


@pytest.mark.parametrize("viewer", ["anonymous", "participant"])
def test_a_draft_challenge_is_not_found_for_anyone_but_its_organizers(
    client: Client, speech_task: Task, participant: User, viewer: str
) -> None:
    Challenge.objects.filter(slug=SLUG).update(visibility=Challenge.Visibility.DRAFT)
    if viewer == "participant":
        client.force_login(participant)

    pages = [_url("challenges:detail", SLUG), _task_url("challenges:task"), _task_url("leaderboards:task")]

    assert [client.get(page).status_code for page in pages] == [404, 404, 404]


def test_a_draft_challenge_is_visible_to_its_organizer(client: Client, speech_task: Task, organizer: User) -> None:
    Challenge.objects.filter(slug=SLUG).update(visibility=Challenge.Visibility.DRAFT)
    client.force_login(organizer)

    assert client.get(_url("challenges:detail", SLUG)).status_code == 200


@pytest.mark.parametrize("viewer", ["anonymous", "participant"])
def test_an_ended_challenge_offers_no_registration(
    client: Client, challenge: Challenge, participant: User, viewer: str
) -> None:
    now = timezone.now()
    Challenge.objects.filter(pk=challenge.pk).update(starts_at=now - dt.timedelta(days=9), ends_at=now)
    if viewer == "participant":
        client.force_login(participant)

    response = client.get(_url("challenges:detail", SLUG))

    assert "This challenge has ended: registration is closed" in response.text
    assert 'id="register-form"' not in response.text and "to register" not in response.text


def test_registering_requires_ticking_the_rules(client: Client, challenge: Challenge, participant: User) -> None:
    client.force_login(participant)

    response = client.post(_url("challenges:register", SLUG), follow=True)

    assert "You must accept the challenge rules to register." in response.text
    assert not Participation.objects.exists()


def test_registering_with_the_rules_ticked_creates_an_approved_participation(
    client: Client, challenge: Challenge, participant: User
) -> None:
    client.force_login(participant)

    response = client.post(_url("challenges:register", SLUG), {"accept_rules": "on"})

    assert response.status_code == 302
    assert response["Location"] == _url("challenges:detail", SLUG)
    participation = Participation.objects.get()
    assert (participation.team.personal_owner, participation.status) == (participant, Participation.Status.APPROVED)


def test_a_registered_participant_downloads_a_public_file(alice: Client, speech_task: Task) -> None:
    data_file = _public_file(speech_task)

    response = alice.get(_task_url("challenges:task_data", data_file.pk))

    assert response.status_code == 200
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]  # a FileResponse streams
    with data_file.file.open("rb") as stored:
        assert body == stored.read()
    assert response["X-Content-SHA256"] == data_file.sha256
    assert "attachment" in response["Content-Disposition"]


def test_a_signed_in_user_who_has_not_registered_cannot_download(
    client: Client, speech_task: Task, participant: User
) -> None:
    client.force_login(participant)

    response = client.get(_task_url("challenges:task_data", _public_file(speech_task).pk))

    assert response.status_code == 403


def test_an_anonymous_visitor_cannot_download(client: Client, speech_task: Task) -> None:
    response = client.get(_task_url("challenges:task_data", _public_file(speech_task).pk))

    assert response.status_code in (302, 403)
    assert not hasattr(response, "streaming_content")


@pytest.mark.parametrize("viewer", ["anonymous", "registered", "organizer"])
def test_a_hidden_file_is_not_found_for_anyone(
    client: Client, speech_task: Task, registered: User, organizer: User, viewer: str
) -> None:
    hidden = speech_task.data_files.get(relative_path="eval.yaml")
    assert hidden.role == TaskDataFile.Role.HIDDEN
    if viewer != "anonymous":
        client.force_login(registered if viewer == "registered" else organizer)

    response = client.get(_task_url("challenges:task_data", hidden.pk))

    assert response.status_code == 404


def test_the_submission_form_renders_for_a_registered_participant(alice: Client, speech_task: Task) -> None:
    response = alice.get(_task_url("submissions:new"))

    assert response.status_code == 200
    assert 'id="submission-form"' in response.text


def _post_submission(client: Client, division: Division, content: str, name: str = "selection.json") -> Any:
    upload = SimpleUploadedFile(name, content.encode(), content_type="application/json")
    return client.post(
        _task_url("submissions:new"),
        {"division": division.pk, "artifact": upload, "method_description": "by hand"},
    )


def test_posting_a_valid_file_redirects_to_the_submission_page(
    alice: Client, speech_task: Task, open_division: Division, speech_selections: Selections
) -> None:
    response = _post_submission(alice, open_division, json.dumps(speech_selections["first-k"]))

    submission = Submission.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _url("submissions:detail", submission.pk)
    assert submission.status == Submission.Status.QUEUED
    assert submission.method_description == "by hand"


def test_posting_malformed_json_shows_the_precise_message_and_records_a_rejection(
    alice: Client, speech_task: Task, open_division: Division
) -> None:
    response = _post_submission(alice, open_division, '{"targets": {}, "nontargets": [}')

    submission = Submission.objects.get()
    assert response.status_code == 422
    assert submission.status == Submission.Status.REJECTED
    assert submission.message.endswith(".json: not valid JSON: Expecting value at line 1, column 32")
    assert escape(submission.message) in response.text
    assert f"Submission #{submission.pk} was rejected" in response.text
    assert not Leaderboard.objects.exists()


@pytest.mark.parametrize("name", ["submissions:detail", "submissions:status"])
def test_another_participants_submission_is_not_found(
    client: Client, speech_task: Task, open_division: Division, registered: User, other_participant: User, name: str
) -> None:
    submission = make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.5)
    client.force_login(other_participant)

    assert client.get(_url(name, submission.pk)).status_code == 404


def test_the_owner_sees_the_submission_page(
    alice: Client, speech_task: Task, open_division: Division, registered: User
) -> None:
    submission = make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.5)

    assert alice.get(_url("submissions:detail", submission.pk)).status_code == 200


def test_the_owner_polls_the_status_with_the_metrics(
    alice: Client, speech_task: Task, open_division: Division, registered: User
) -> None:
    submission = make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.5)

    response = alice.get(_url("submissions:status", submission.pk))

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    payload = response.json()
    assert (payload["id"], payload["status"], payload["terminal"]) == (submission.pk, "scored", True)
    assert payload["metrics"]["primary"]["value"] == 0.5


def test_the_leaderboard_json_carries_an_etag_and_answers_304_while_it_is_unchanged(
    client: Client, speech_task: Task, open_division: Division, registered: User
) -> None:
    make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.5)
    leaderboard_rebuild(task=speech_task, division=open_division)
    first = client.get(_task_url("leaderboards:task_json"))
    etag = first["ETag"]

    again = client.get(_task_url("leaderboards:task_json"), headers={"If-None-Match": etag})

    assert first.status_code == 200
    assert first.json()["rows"][0]["primary"] == 0.5
    assert again.status_code == 304
    assert again["ETag"] == etag


def test_the_leaderboard_json_gets_a_new_etag_after_a_rebuild(
    client: Client, speech_task: Task, open_division: Division
) -> None:
    etag = client.get(_task_url("leaderboards:task_json"))["ETag"]
    leaderboard_rebuild(task=speech_task, division=open_division)

    response = client.get(_task_url("leaderboards:task_json"), headers={"If-None-Match": etag})

    assert response.status_code == 200
    assert response["ETag"] != etag


def test_the_leaderboard_page_loads_plotly_from_our_own_static_files(client: Client, speech_task: Task) -> None:
    response = client.get(_task_url("leaderboards:task"))

    assert response.status_code == 200
    assert '<script src="/static/vendor/plotly.min.js">' in response.text
    assert not re.search(r"<script[^>]+src=[\"']?(https?:)?//", response.text)
    assert 'id="leaderboard-data"' in response.text


def test_signing_up_creates_a_user_with_a_personal_team_and_signs_them_in(client: Client, db: None) -> None:
    response = client.post(
        _url("accounts:signup"),
        {"username": "carol", "email": "carol@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )

    user = User.objects.get(username="carol")
    assert response.status_code == 302
    assert response["Location"] == _url("challenges:list")
    assert Team.objects.get(personal_owner=user).members.get() == user
    assert client.session["_auth_user_id"] == str(user.pk)


def test_signing_up_refuses_a_taken_username(client: Client, participant: User) -> None:
    response = client.post(
        _url("accounts:signup"),
        {"username": "ALICE", "email": "a2@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 200
    assert "is taken" in response.text
    assert User.objects.filter(username__iexact="alice").count() == 1


PAGES: dict[str, Callable[[Submission], str]] = {
    "challenge list": lambda s: _url("challenges:list"),
    "challenge": lambda s: _url("challenges:detail", SLUG),
    "task": lambda s: _task_url("challenges:task"),
    "leaderboard": lambda s: _task_url("leaderboards:task"),
    "leaderboard json": lambda s: _task_url("leaderboards:task_json"),
    "submission form": lambda s: _task_url("submissions:new"),
    "my submissions": lambda s: _url("submissions:list"),
    "submission": lambda s: _url("submissions:detail", s.pk),
    "submission status": lambda s: _url("submissions:status", s.pk),
    "signup": lambda s: _url("accounts:signup"),
    "login": lambda s: _url("accounts:login"),
    "not found": lambda s: _url("challenges:detail", "no-such-challenge"),
    "hidden file": lambda s: _task_url("challenges:task_data", 999999),
}


@pytest.mark.parametrize("page", PAGES)
def test_every_page_sends_a_content_security_policy(
    alice: Client, speech_task: Task, open_division: Division, registered: User, page: str
) -> None:
    submission = make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.5)

    response = alice.get(PAGES[page](submission))

    assert response["Content-Security-Policy"] == CSP
    assert "script-src 'self';" in CSP
