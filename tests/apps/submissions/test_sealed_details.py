"""Evaluation details that would reveal hidden labels (sealed charts) reach organizers at once and the team
only when the challenge has ended; never another participant."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.challenges.models import Challenge, Task
from apps.divisions.models import Division
from apps.submissions.models import Evaluation, Submission
from tests.apps.conftest import make_scored_submission

SEALED = {"kind": "line", "title": "Curve", "x": [1, 2], "y": [0.5, 0.6], "x_label": "", "y_label": "", "series": ""}
OPEN = {"kind": "bar", "title": "Summary", "x": ["a"], "y": [0.1], "x_label": "", "y_label": "", "series": ""}


@pytest.fixture
def sealed_submission(speech_task: Task, open_division: Division, participant: User) -> Submission:
    submission = make_scored_submission(task=speech_task, division=open_division, user=participant, primary=0.5)
    Evaluation.objects.filter(submission=submission).update(
        details={"charts": [OPEN], "sealed_charts": [SEALED], "sealed": {"curves": {"d": [0.5, 0.6]}}}
    )
    return submission


def _details(user: User, submission: Submission) -> dict[str, object]:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("submissions:status", args=[submission.pk]))
    assert response.status_code == 200
    details = response.json()["metrics"]["details"]
    assert isinstance(details, dict)
    return details


def test_the_team_sees_only_the_open_charts_while_the_challenge_runs(
    sealed_submission: Submission, participant: User
) -> None:
    details = _details(participant, sealed_submission)

    assert details["charts"] == [OPEN]
    assert "sealed" not in details
    assert details["sealed_pending"] is True


def test_organizers_see_the_sealed_charts_at_once(sealed_submission: Submission, organizer: User) -> None:
    details = _details(organizer, sealed_submission)

    assert details["charts"] == [OPEN, SEALED]
    assert details["sealed"] == {"curves": {"d": [0.5, 0.6]}}


def test_the_team_sees_the_sealed_charts_once_the_challenge_has_ended(
    sealed_submission: Submission, participant: User, challenge: Challenge
) -> None:
    Challenge.objects.filter(pk=challenge.pk).update(ends_at=timezone.now() - dt.timedelta(minutes=1))

    details = _details(participant, sealed_submission)

    assert details["charts"] == [OPEN, SEALED]
    assert details["sealed_pending"] is False


def test_the_api_applies_the_same_rule_as_the_page(
    sealed_submission: Submission, participant: User, organizer: User
) -> None:
    client = Client()
    client.force_login(participant)
    url = f"/api/v1/submissions/{sealed_submission.pk}/"
    team_view = client.get(url).json()["metrics"]["details"]
    client.force_login(organizer)
    organizer_view = client.get(url).json()["metrics"]["details"]

    assert team_view["charts"] == [OPEN] and "sealed" not in team_view
    assert organizer_view["charts"] == [OPEN, SEALED]
