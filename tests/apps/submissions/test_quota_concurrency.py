"""Fifty parallel submissions against a daily quota of five: exactly five are taken.

Each thread has its own database connection (Django's connections are per thread), so the requests really
race: only the row lock on the team's participation, held in the transaction that inserts the submission,
keeps them from all reading "0 used" and all inserting. Meant for PostgreSQL (CI runs it there); on SQLite
the writers are serialised by the database lock (`transaction_mode=IMMEDIATE`), which must give the same
outcome.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection

from apps.challenges.models import Task
from apps.divisions.models import Division
from apps.submissions.models import Submission
from apps.submissions.services.intake import SubmissionInput, submission_create
from apps.submissions.services.quotas import QuotaExceeded
from tests.apps.conftest import upload

REQUESTS = 50
DAILY_QUOTA = 5


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("window", [Task.QuotaWindow.ROLLING, Task.QuotaWindow.CALENDAR_DAY])
def test_fifty_parallel_submissions_against_a_daily_quota_of_five_take_exactly_five(
    speech_task: Task,
    open_division: Division,
    registered: User,
    speech_selections: dict[str, dict[str, Any]],
    window: str,
) -> None:
    Task.objects.filter(pk=speech_task.pk).update(quota_per_day=DAILY_QUOTA, quota_total=None, quota_window=window)
    task = Task.objects.select_related("challenge").get(pk=speech_task.pk)
    content = json.dumps(speech_selections["first-k"])
    start = threading.Barrier(REQUESTS)
    outcomes: Counter[str] = Counter()
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
                outcomes[outcome] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=submit_once) for _ in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes == {"accepted": DAILY_QUOTA, "quota": REQUESTS - DAILY_QUOTA}
    assert Submission.objects.filter(task=task).count() == DAILY_QUOTA
