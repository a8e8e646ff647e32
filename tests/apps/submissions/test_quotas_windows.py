"""Quota windows (rolling 24 hours or a calendar day in the challenge's time zone), the concurrent quota,
which outcomes count, and what the status and the form say about each quota."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from apps.challenges.models import Challenge, Task
from apps.divisions.models import Division
from apps.submissions.models import Submission
from apps.submissions.services.quotas import QuotaExceeded, day_window, quota_consume_check, quota_status
from tests.apps.conftest import make_scored_submission, team_of

pytestmark = pytest.mark.django_db
Submit = Callable[..., Submission]
Selections = dict[str, dict[str, Any]]
UTC = dt.UTC


def _with(task: Task, *, time_zone: str = "UTC", **quotas: Any) -> Task:
    Challenge.objects.filter(pk=task.challenge_id).update(time_zone=time_zone)
    Task.objects.filter(pk=task.pk).update(**quotas)
    return Task.objects.select_related("challenge").get(pk=task.pk)


def _at(task: Task, division: Division, user: User, moment: dt.datetime, status: str = "scored") -> Submission:
    return make_scored_submission(
        task=task, division=division, user=user, primary=0.5, created_at=moment, status=status
    )


def _utc(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- Calendar days ----------------------------------------------------------------------------------------
def test_a_calendar_day_starts_at_local_midnight_not_24_hours_ago(
    speech_task: Task, open_division: Division, registered: User
) -> None:
    task = _with(speech_task, time_zone="America/New_York", quota_per_day=2, quota_window="calendar-day")
    now = _utc(2025, 6, 15, 15, 0)  # 11:00 in New York (EDT, UTC-4)
    _at(task, open_division, registered, _utc(2025, 6, 15, 3, 30))  # 23:30 the day before, local time
    _at(task, open_division, registered, _utc(2025, 6, 15, 4, 0))  # local midnight: today
    _at(task, open_division, registered, _utc(2025, 6, 15, 14, 0))

    status = quota_status(task=task, team=team_of(registered), now=now)

    assert (status.used_today, status.remaining_today) == (2, 0)
    assert status.resets_at == status.day_resets_at == _utc(2025, 6, 16, 4, 0)  # the next local midnight
    rolling = quota_status(task=_with(task, quota_window="rolling"), team=team_of(registered), now=now)
    assert rolling.used_today == 3


def test_the_calendar_day_quota_resets_at_local_midnight_with_a_message_saying_so(
    speech_task: Task, open_division: Division, registered: User
) -> None:
    task = _with(speech_task, time_zone="America/New_York", quota_per_day=1, quota_window="calendar-day")
    _at(task, open_division, registered, _utc(2025, 6, 15, 14, 0))

    with pytest.raises(QuotaExceeded) as error:
        quota_consume_check(task=task, team=team_of(registered), now=_utc(2025, 6, 15, 15, 0))

    assert error.value.message == (
        "Your team has used its 1 submissions for today; the quota resets at midnight (America/New_York), "
        "at 2025-06-16 04:00 UTC."
    )
    assert error.value.resets_at == _utc(2025, 6, 16, 4, 0)
    quota_consume_check(task=task, team=team_of(registered), now=_utc(2025, 6, 16, 4, 0))  # the next day: fine


@pytest.mark.parametrize(
    ("now", "start", "end"),
    [
        # Spring forward: a 23-hour day; fall back: a 25-hour day. Midnight stays local midnight.
        (_utc(2025, 3, 9, 12, 0), _utc(2025, 3, 9, 5, 0), _utc(2025, 3, 10, 4, 0)),
        (_utc(2025, 11, 2, 12, 0), _utc(2025, 11, 2, 4, 0), _utc(2025, 11, 3, 5, 0)),
        # 02:30 UTC is still the evening before in New York.
        (_utc(2025, 6, 15, 2, 30), _utc(2025, 6, 14, 4, 0), _utc(2025, 6, 15, 4, 0)),
    ],
)
def test_calendar_days_follow_daylight_saving_time(
    speech_task: Task, now: dt.datetime, start: dt.datetime, end: dt.datetime
) -> None:
    task = _with(speech_task, time_zone="America/New_York", quota_window="calendar-day")

    assert day_window(task=task, now=now) == (start, end)


def test_a_rolling_window_reports_when_its_oldest_submission_leaves_it(
    speech_task: Task, open_division: Division, registered: User
) -> None:
    task = _with(speech_task, quota_per_day=3)
    now = _utc(2025, 6, 15, 12, 0)
    _at(task, open_division, registered, _utc(2025, 6, 15, 1, 0))
    _at(task, open_division, registered, _utc(2025, 6, 15, 9, 0))

    status = quota_status(task=task, team=team_of(registered), now=now)

    assert status.remaining_today == 1
    assert status.resets_at is None  # not used up
    assert status.day_resets_at == _utc(2025, 6, 16, 1, 0)


# --- What counts ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("counts_failed", "used"), [(False, 1), (True, 2)])
def test_failed_submissions_count_only_where_the_task_says_so(
    speech_task: Task, open_division: Division, registered: User, counts_failed: bool, used: int
) -> None:
    task = _with(speech_task, quota_total=5, quota_counts_failed=counts_failed)
    now = _utc(2025, 6, 15, 12, 0)
    _at(task, open_division, registered, now, status=Submission.Status.SCORED)
    _at(task, open_division, registered, now, status=Submission.Status.FAILED)

    status = quota_status(task=task, team=team_of(registered), now=now)

    assert (status.used_total, status.used_today) == (used, used)


@pytest.mark.parametrize(("counts_rejected", "used"), [(False, 0), (True, 1)])
def test_rejected_submissions_count_only_where_the_task_says_so(
    speech_task: Task, open_division: Division, registered: User, counts_rejected: bool, used: int
) -> None:
    task = _with(speech_task, quota_total=5, quota_counts_rejected=counts_rejected)
    _at(task, open_division, registered, _utc(2025, 6, 15, 12, 0), status=Submission.Status.REJECTED)
    _at(task, open_division, registered, _utc(2025, 6, 15, 12, 0), status=Submission.Status.CANCELLED)

    assert quota_status(task=task, team=team_of(registered)).used_total == used


# --- Concurrent ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "in_flight"),
    [
        (Submission.Status.RECEIVED, 1),
        (Submission.Status.VALIDATING, 1),
        (Submission.Status.VERIFYING, 1),
        (Submission.Status.QUEUED, 1),
        (Submission.Status.SCORED, 0),
        (Submission.Status.REJECTED, 0),
        (Submission.Status.FAILED, 0),
        (Submission.Status.CANCELLED, 0),
    ],
)
def test_the_concurrent_quota_counts_submissions_still_being_processed(
    speech_task: Task, open_division: Division, registered: User, status: str, in_flight: int
) -> None:
    task = _with(speech_task, quota_concurrent=1)
    _at(task, open_division, registered, _utc(2025, 6, 15, 12, 0), status=status)

    quota = quota_status(task=task, team=team_of(registered))

    assert (quota.in_flight, quota.remaining_concurrent, quota.remaining) == (in_flight, 1 - in_flight, 1 - in_flight)


def test_a_running_submission_counts_against_the_concurrent_quota(
    speech_task: Task, open_division: Division, registered: User
) -> None:
    task = _with(speech_task, quota_concurrent=1)
    submission = _at(task, open_division, registered, _utc(2025, 6, 15, 12, 0), status=Submission.Status.QUEUED)
    Submission.objects.filter(pk=submission.pk).update(
        status=Submission.Status.RUNNING, lease_owner="w", lease_expires_at=_utc(2030, 1, 1, 0, 0)
    )

    assert quota_status(task=task, team=team_of(registered)).in_flight == 1


def test_it_refuses_a_submission_over_the_concurrent_quota_until_one_finishes(
    submit: Submit, speech_task: Task, registered: User, speech_selections: Selections
) -> None:
    task = _with(speech_task, quota_per_day=None, quota_concurrent=2)
    first = submit(registered, speech_selections["first-k"], task=task)
    submit(registered, speech_selections["random"], task=task)
    assert first.status == Submission.Status.QUEUED  # still waiting for a worker: in flight

    with pytest.raises(QuotaExceeded) as error:
        submit(registered, speech_selections["random-balanced"], task=task)

    assert error.value.message == (
        "Your team already has 2 submissions being processed for this task, the most allowed at once; "
        "submit again when one of them has finished."
    )
    assert error.value.resets_at is None
    Submission.objects.filter(pk=first.pk).update(status=Submission.Status.SCORED)
    assert submit(registered, speech_selections["random-balanced"], task=task).status == Submission.Status.QUEUED


# --- What the status and the form show ---------------------------------------------------------------------
def test_the_status_lists_every_quota_with_what_remains_and_when_it_resets(
    speech_task: Task, open_division: Division, registered: User
) -> None:
    task = _with(speech_task, time_zone="Europe/Paris", quota_per_day=3, quota_window="calendar-day")
    task = _with(task, time_zone="Europe/Paris", quota_total=10, quota_concurrent=2)
    now = _utc(2025, 6, 15, 12, 0)
    _at(task, open_division, registered, _utc(2025, 6, 14, 12, 0))
    _at(task, open_division, registered, _utc(2025, 6, 15, 8, 0), status=Submission.Status.QUEUED)

    status = quota_status(task=task, team=team_of(registered), now=now)

    summary = [(q.kind, q.label, q.limit, q.used, q.remaining, q.resets_at) for q in status.limits]
    assert summary == [
        ("day", "today (Europe/Paris)", 3, 1, 2, _utc(2025, 6, 15, 22, 0)),
        ("total", "in total", 10, 2, 8, None),
        ("concurrent", "being processed at once", 2, 1, 1, None),
    ]
    assert status.remaining == 1


def test_the_submission_form_shows_each_quota_and_when_it_resets(
    client: Client, speech_task: Task, open_division: Division, registered: User
) -> None:
    task = _with(speech_task, time_zone="Europe/Paris", quota_per_day=3, quota_window="calendar-day")
    task = _with(task, time_zone="Europe/Paris", quota_total=10, quota_concurrent=2)
    client.force_login(registered)

    response = client.get(reverse("submissions:new", args=[task.challenge.slug, task.slug]))

    assert response.status_code == 200
    text = response.text
    assert '<li id="quota-day">0 of 3 today (Europe/Paris): 3 left; resets at midnight, ' in text
    assert '<li id="quota-total">0 of 10 in total: 10 left (never resets).</li>' in text
    assert '<li id="quota-concurrent">0 of 2 being processed at once: 2 left.</li>' in text
    assert "2 submissions possible now." in text
