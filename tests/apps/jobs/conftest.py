"""A collective benchmark on the platform: the toy evaluator (tests/plugins/toy_collective.py), where each
item is worth 1 point shared among the ranked submissions holding it."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile

from apps.challenges.models import Challenge, Task
from apps.challenges.services import participation_register, task_data_file_put
from apps.divisions.models import Division
from apps.jobs.pipeline import evaluate_and_rank
from apps.submissions.models import Submission
from apps.submissions.services.intake import SubmissionInput, submission_create

HandIn = Callable[..., Submission]


@pytest.fixture
def toy_task(challenge: Challenge, open_division: Division) -> Task:
    task = Task.objects.create(
        challenge=challenge, slug="toy", title="Toy", evaluator_slug="toy-collective", ml_task="tabular", config={}
    )
    task_data_file_put(task=task, relative_path="items.json", content=ContentFile(json.dumps(list("abcdef")).encode()))
    task.refresh_from_db()
    return task


@pytest.fixture
def hand_in(toy_task: Task, open_division: Division, challenge: Challenge) -> HandIn:
    """Submit `items` as `user` (in `division`, the open one by default) and score it alone, as a worker would."""

    def _hand_in(user: User, items: list[str], division: Division | None = None) -> Submission:
        participation_register(challenge=challenge, user=user, accept_rules=True)
        data = SubmissionInput(artifact=ContentFile(json.dumps(items).encode()), artifact_name="items.json")
        submission = submission_create(task=toy_task, division=division or open_division, user=user, data=data)
        assert evaluate_and_rank(submission_id=submission.pk) == "scored"
        return submission

    return _hand_in
