"""The world the API tests act in: a public challenge with the speech task (public and hidden files), a draft
challenge, an unpublished task, and five kinds of caller, each with an API token.

Shared fixtures (users, the challenge, the speech task) come from tests/conftest.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.services import api_token_create
from apps.challenges.models import Challenge, Task, TaskDataFile
from apps.challenges.services import participation_register
from apps.divisions.models import Division
from apps.submissions.models import Submission
from apps.submissions.services import dispatch
from evaluators.taskdir import clear_task_cache
from tests.apps.conftest import make_scored_submission
from tests.conftest import make_user

ROLES = ("anonymous", "participant_a", "participant_b", "organizer", "staff")


@dataclass
class World:
    challenge: Challenge
    task: Task
    division: Division
    draft: Challenge
    unpublished: Task
    submission: Submission
    public_file: TaskDataFile
    hidden_file: TaskDataFile
    valid_selection: bytes
    users: dict[str, User | None] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def user(self, role: str) -> User:
        user = self.users[role]
        assert user is not None, f"{role} has no user"
        return user

    def client(self, role: str) -> APIClient:
        """An API client authenticated as `role` with its token (anonymous: no credentials)."""
        client = APIClient()
        if role != "anonymous":
            client.credentials(HTTP_AUTHORIZATION=f"Token {self.tokens[role]}")
        return client


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """No API test talks to a broker (the CLI tests run a real one); what would be sent is recorded."""
    sent: list[tuple[str, int]] = []
    monkeypatch.setattr(dispatch, "_send", lambda name, queue, object_id, countdown: sent.append((name, object_id)))
    return sent


@pytest.fixture(autouse=True)
def _fresh_state() -> Iterator[None]:
    """Throttle counters live in the cache and loaded tasks in a per-process cache keyed by primary keys,
    which repeat across rolled-back tests."""
    cache.clear()
    clear_task_cache()
    yield
    cache.clear()
    clear_task_cache()


@pytest.fixture
def world(
    challenge: Challenge,
    speech_task: Task,
    open_division: Division,
    organizer: User,
    registered: User,
    other_participant: User,
    speech_selections: dict[str, dict[str, Any]],
) -> World:
    participation_register(challenge=challenge, user=other_participant, accept_rules=True)
    staff = make_user("stella", staff=True)
    draft = Challenge.objects.create(
        slug="draft-challenge",
        title="Draft",
        starts_at=challenge.starts_at,
        ends_at=challenge.ends_at,
        visibility=Challenge.Visibility.DRAFT,
    )
    draft.organizers.add(organizer)
    unpublished = Task.objects.create(
        challenge=challenge,
        slug="unpublished",
        title="Unpublished",
        evaluator_slug="selection-speech",
        ml_task=Task.MLTask.KEYWORD_SPOTTING,
        config=speech_task.config,
        is_published=False,
    )
    submission = make_scored_submission(
        task=speech_task, division=open_division, user=registered, primary=0.5, created_at=timezone.now()
    )
    users: dict[str, User | None] = {
        "anonymous": None,
        "participant_a": registered,
        "participant_b": other_participant,
        "organizer": organizer,
        "staff": staff,
    }
    tokens = {role: api_token_create(user=user, name="tests")[1] for role, user in users.items() if user is not None}
    files = speech_task.data_files
    return World(
        challenge=challenge,
        task=speech_task,
        division=open_division,
        draft=draft,
        unpublished=unpublished,
        submission=submission,
        public_file=files.filter(role=TaskDataFile.Role.PUBLIC).order_by("pk")[0],
        hidden_file=files.filter(role=TaskDataFile.Role.HIDDEN).order_by("pk")[0],
        valid_selection=json.dumps(speech_selections["random-balanced"]).encode(),
        users=users,
        tokens=tokens,
    )
