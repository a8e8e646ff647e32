"""Quotas per team and task: rolling 24 hours and in total, consumed atomically with the insert."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from apps.challenges.models import Task
from apps.challenges.services import participation_register
from apps.divisions.models import Division
from apps.submissions.models import Submission
from apps.submissions.services.intake import SubmissionInput, submission_create
from apps.submissions.services.quotas import QuotaExceeded, quota_status
from tests.apps.conftest import set_created_at, team_of, upload

Submit = Callable[..., Submission]
Selections = dict[str, dict[str, Any]]


def _with_quota(task: Task, **quotas: Any) -> Task:
    Task.objects.filter(pk=task.pk).update(**quotas)
    return Task.objects.get(pk=task.pk)


@pytest.mark.django_db
def test_it_refuses_a_submission_over_the_daily_quota_and_says_when_the_next_is_possible(
    submit: Submit, registered: User, speech_task: Task, speech_selections: Selections
) -> None:
    task = _with_quota(speech_task, quota_per_day=2)
    now = timezone.now()
    oldest = submit(registered, speech_selections["first-k"], task=task)
    set_created_at(oldest, now - dt.timedelta(hours=23))
    submit(registered, speech_selections["random"], task=task)
    resets = now + dt.timedelta(hours=1)

    with pytest.raises(QuotaExceeded) as error:
        submit(registered, speech_selections["random-balanced"], task=task)

    assert error.value.message == (
        "Your team has used its 2 submissions for the last 24 hours; "
        f"the next one is possible at {resets:%Y-%m-%d %H:%M} UTC."
    )
    assert Submission.objects.count() == 2


@pytest.mark.django_db
def test_a_submission_older_than_24_hours_does_not_count_against_the_daily_quota(
    submit: Submit, registered: User, speech_task: Task, speech_selections: Selections
) -> None:
    task = _with_quota(speech_task, quota_per_day=1)
    old = submit(registered, speech_selections["first-k"], task=task)
    set_created_at(old, timezone.now() - dt.timedelta(hours=25))

    accepted = submit(registered, speech_selections["random"], task=task)

    assert accepted.status == Submission.Status.QUEUED


@pytest.mark.django_db
def test_it_refuses_a_submission_over_the_total_quota(
    submit: Submit, registered: User, speech_task: Task, speech_selections: Selections
) -> None:
    task = _with_quota(speech_task, quota_per_day=None, quota_total=2)
    for name in ("first-k", "random"):
        old = submit(registered, speech_selections[name], task=task)
        set_created_at(old, timezone.now() - dt.timedelta(days=3))

    with pytest.raises(QuotaExceeded) as error:
        submit(registered, speech_selections["random-balanced"], task=task)

    assert error.value.message == "Your team has used all 2 submissions allowed for this task."


@pytest.mark.django_db
def test_quotas_are_per_team(
    submit: Submit,
    registered: User,
    other_participant: User,
    speech_task: Task,
    speech_selections: Selections,
) -> None:
    task = _with_quota(speech_task, quota_per_day=1)
    submit(registered, speech_selections["first-k"], task=task)
    participation_register(challenge=task.challenge, user=other_participant, accept_rules=True)

    accepted = submit(other_participant, speech_selections["first-k"], task=task)

    assert accepted.status == Submission.Status.QUEUED


@pytest.mark.django_db
def test_quota_status_reports_what_remains_today_and_in_total(
    submit: Submit, registered: User, speech_task: Task, speech_selections: Selections
) -> None:
    task = _with_quota(speech_task, quota_per_day=3, quota_total=10)
    now = timezone.now()
    for hours_ago, name in ((30, "first-k"), (2, "random"), (1, "random-balanced")):
        set_created_at(submit(registered, speech_selections[name], task=task), now - dt.timedelta(hours=hours_ago))

    status = quota_status(task=task, team=team_of(registered), now=now)

    assert (status.used_today, status.remaining_today) == (2, 1)
    assert (status.used_total, status.remaining_total) == (3, 7)
    assert status.remaining == 1
    assert status.resets_at is None


@pytest.mark.django_db
def test_quota_status_resets_when_the_oldest_submission_of_the_window_leaves_it(
    submit: Submit, registered: User, speech_task: Task, speech_selections: Selections
) -> None:
    task = _with_quota(speech_task, quota_per_day=2)
    now = timezone.now()
    for hours_ago, name in ((25, "first-k"), (20, "random"), (3, "random-balanced")):
        set_created_at(submit(registered, speech_selections[name], task=task), now - dt.timedelta(hours=hours_ago))

    status = quota_status(task=task, team=team_of(registered), now=now)

    assert status.remaining_today == 0
    assert status.resets_at == now - dt.timedelta(hours=20) + dt.timedelta(hours=24)


@pytest.mark.django_db
def test_quota_status_is_unlimited_without_quotas(registered: User, speech_task: Task) -> None:
    task = _with_quota(speech_task, quota_per_day=None, quota_total=None)

    status = quota_status(task=task, team=team_of(registered))

    assert (status.remaining_today, status.remaining_total, status.remaining) == (None, None, None)


@pytest.mark.django_db(transaction=True)
def test_parallel_submissions_never_exceed_the_quota(
    speech_task: Task, open_division: Division, registered: User, speech_selections: Selections
) -> None:
    task = _with_quota(speech_task, quota_per_day=3)
    content = json.dumps(speech_selections["first-k"])
    threads_count = 8
    start = threading.Barrier(threads_count)
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit_once() -> None:
        try:
            data = SubmissionInput(artifact=upload(content), artifact_name="selection.json", method_description="m")
            start.wait()
            try:
                submission_create(task=task, division=open_division, user=registered, data=data)
                outcome = "accepted"
            except QuotaExceeded:
                outcome = "quota"
            except Exception as exc:  # reported by the assertion below, not lost in the thread
                outcome = repr(exc)
            with lock:
                outcomes.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit_once) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["accepted"] * 3 + ["quota"] * 5
    assert Submission.objects.filter(task=task).count() == 3
