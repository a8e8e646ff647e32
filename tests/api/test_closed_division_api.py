"""The API tells the same about a closed-division submission as its page: the verification stages (the
organizers' notes to organizers only) and the concealed score only to whoever may see it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from apps.challenges.models import Challenge, Task
from apps.divisions.models import Division
from apps.submissions.models import Score, Submission, VerificationStage
from tests.apps.conftest import PRIMARY, make_scored_submission

pytestmark = pytest.mark.django_db
ORGANIZER_NOTE = "the concealed eval.yaml lists 17 items"


@pytest.fixture
def verified(speech_task: Task, closed_division: Division, registered: User) -> Submission:
    Task.objects.filter(pk=speech_task.pk).update(concealed_config={"language": "en", "train_size": 25})
    submission = make_scored_submission(task=speech_task, division=closed_division, user=registered, primary=0.5)
    Submission.objects.filter(pk=submission.pk).update(code_archive="code/factory/algorithm.zip")
    assert submission.current_evaluation_id is not None
    Score.objects.create(
        evaluation_id=submission.current_evaluation_id, split=Score.Split.CONCEALED, metric=PRIMARY, value=0.25
    )
    now = timezone.now()
    VerificationStage.objects.create(
        submission=submission, stage="reproduce", status="passed", stderr_tail="fine", started_at=now
    )
    VerificationStage.objects.create(
        submission=submission, stage="concealed", status="failed", organizer_detail=ORGANIZER_NOTE, started_at=now
    )
    return submission


def _get(user: User, submission: Submission) -> dict[str, Any]:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(f"/api/v1/submissions/{submission.pk}/")
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


def test_the_team_reads_the_stages_without_the_organizer_notes(verified: Submission, participant: User) -> None:
    data = _get(participant, verified)

    assert [(s["stage"], s["status"], s["stderr_tail"]) for s in data["stages"]] == [
        ("reproduce", "passed", "fine"),
        ("concealed", "failed", ""),
    ]
    assert all("organizer_detail" not in stage for stage in data["stages"])
    assert data["metrics"]["concealed"] is None


def test_organizers_read_the_notes_and_the_concealed_score(verified: Submission, organizer: User) -> None:
    data = _get(organizer, verified)

    assert data["stages"][1]["organizer_detail"] == ORGANIZER_NOTE
    assert data["metrics"]["concealed"]["primary"]["value"] == 0.25


def test_the_team_reads_its_concealed_score_once_the_challenge_has_ended(
    verified: Submission, participant: User, challenge: Challenge
) -> None:
    Challenge.objects.filter(pk=challenge.pk).update(ends_at=timezone.now() - dt.timedelta(minutes=1))

    assert _get(participant, verified)["metrics"]["concealed"]["primary"]["value"] == 0.25
