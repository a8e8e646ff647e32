"""Exports: the board as CSV for whoever sees it; every submission with its metadata for organizers only,
written by a background task into private storage."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from apps.accounts.models import Team
from apps.challenges.models import Challenge, Task
from apps.core.queues import EXPORT_SUBMISSIONS_TASK, LONG_QUEUE
from apps.divisions.models import Division
from apps.jobs.tasks import export_submissions
from apps.leaderboards import exports
from apps.leaderboards.models import Export
from apps.leaderboards.services import leaderboards_rebuild_for_task
from apps.submissions.models import Submission
from apps.submissions.services import dispatch
from tests.apps.conftest import RecordingBroker, SentTask, make_scored_submission, team_of
from tests.apps.leaderboards.conftest import add_private_score, challenge_url, client_for, task_url

pytestmark = pytest.mark.django_db
OnCommit = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]


def _csv(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode())))


@pytest.fixture
def sent(broker: RecordingBroker) -> list[SentTask]:
    """The export messages handed to the broker (the outbound boundary, `dispatch._send`)."""
    return broker.sent


@pytest.fixture
def scored(speech_task: Task, open_division: Division, registered: User, bob: User) -> list[Submission]:
    made = [
        make_scored_submission(task=speech_task, division=open_division, user=registered, primary=0.6),
        make_scored_submission(task=speech_task, division=open_division, user=bob, primary=0.8),
    ]
    add_private_score(made[0], 0.31)
    leaderboards_rebuild_for_task(task=speech_task)
    return made


def _export_url(challenge: Challenge) -> str:
    return challenge_url("exports", challenge)


def _download_url(challenge: Challenge, export: Export) -> str:
    return challenge_url("exports", challenge) + f"{export.pk}/download/"


def test_the_board_csv_lists_the_rows_with_every_metric_unscaled(
    scored: list[Submission], speech_task: Task, registered: User
) -> None:
    response = client_for(registered).get(task_url("task_csv", speech_task))

    rows = _csv(response.content)
    assert response["Content-Disposition"].startswith("attachment;")
    assert [(row["rank"], row["team"], row["macro_f1"]) for row in rows] == [("1", "bob", "0.8"), ("2", "alice", "0.6")]


def test_a_formula_in_a_team_name_is_neutralised_in_the_csv(
    scored: list[Submission], speech_task: Task, registered: User, bob: User
) -> None:
    Team.objects.filter(pk=team_of(bob).pk).update(name="=HYPERLINK(1)")
    leaderboards_rebuild_for_task(task=speech_task)

    rows = _csv(client_for(registered).get(task_url("task_csv", speech_task)).content)

    assert rows[0]["team"] == "'=HYPERLINK(1)"


def test_an_organizer_requests_an_export_and_the_task_is_sent_to_the_long_queue_after_commit(
    challenge: Challenge, organizer: User, sent: list[SentTask], django_capture_on_commit_callbacks: OnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(organizer).post(_export_url(challenge))

    export = Export.objects.get()
    assert response.status_code == 302
    assert (export.status, export.requested_by) == (Export.Status.QUEUED, organizer)
    assert sent == [SentTask(EXPORT_SUBMISSIONS_TASK, LONG_QUEUE, export.pk, 0)]


def test_the_export_task_writes_every_submission_with_its_scores_into_private_storage(
    scored: list[Submission], challenge: Challenge, organizer: User
) -> None:
    export = exports.export_request(challenge=challenge, user=organizer)

    assert export_submissions(export.pk) == "done"

    export.refresh_from_db()
    assert export.status == Export.Status.DONE and export.rows == 2 and export.finished_at is not None
    assert "/private/" in export.file.path
    with export.file.open("rb") as handle:
        rows = _csv(handle.read())
    by_id = {int(row["submission_id"]): row for row in rows}
    assert set(by_id) == {s.pk for s in scored}
    assert by_id[scored[0].pk]["public_primary"] == "0.6"
    assert by_id[scored[0].pk]["private_primary"] == "0.31"
    assert by_id[scored[0].pk]["artifact_sha256"] == "0" * 64


def test_running_the_export_task_twice_writes_once(challenge: Challenge, organizer: User) -> None:
    export = exports.export_request(challenge=challenge, user=organizer)

    assert [export_submissions(export.pk), export_submissions(export.pk)] == ["done", "skipped"]


def test_a_lost_running_export_is_claimed_again(challenge: Challenge, organizer: User) -> None:
    export = exports.export_request(challenge=challenge, user=organizer)
    stale = timezone.now() - exports.STALE_AFTER - dt.timedelta(seconds=1)
    Export.objects.filter(pk=export.pk).update(status=Export.Status.RUNNING, started_at=stale)

    assert export_submissions(export.pk) == "done"


def test_an_export_that_cannot_be_queued_is_marked_failed(
    challenge: Challenge, organizer: User, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: OnCommit
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("broker down")

    monkeypatch.setattr(dispatch, "_send", broken)
    with django_capture_on_commit_callbacks(execute=True):
        export = exports.export_request(challenge=challenge, user=organizer)

    export.refresh_from_db()
    assert export.status == Export.Status.FAILED and "request it again" in export.message


def test_the_organizer_downloads_a_finished_export(
    scored: list[Submission], challenge: Challenge, organizer: User
) -> None:
    export = exports.export_request(challenge=challenge, user=organizer)
    export_submissions(export.pk)

    response = client_for(organizer).get(_download_url(challenge, export))

    assert response.status_code == 200
    assert b"submission_id" in b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert "Download CSV" in client_for(organizer).get(_export_url(challenge)).text


def test_participants_cannot_request_list_or_download_exports(
    scored: list[Submission], challenge: Challenge, organizer: User, registered: User, sent: list[SentTask]
) -> None:
    export = exports.export_request(challenge=challenge, user=organizer)
    export_submissions(export.pk)
    participant = client_for(registered)

    assert participant.get(_export_url(challenge)).status_code == 403
    assert participant.post(_export_url(challenge)).status_code == 403
    assert participant.get(_download_url(challenge, export)).status_code == 404
    assert client_for(None).get(_download_url(challenge, export)).status_code == 302  # to the login page
    assert Export.objects.count() == 1


def test_an_unfinished_export_cannot_be_downloaded(challenge: Challenge, organizer: User, sent: list[SentTask]) -> None:
    export = exports.export_request(challenge=challenge, user=organizer)

    assert client_for(organizer).get(_download_url(challenge, export)).status_code == 404
