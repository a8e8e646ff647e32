"""Helpers of the leaderboard tests: clients, a second task, private scores, the challenge's end."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.challenges.models import Challenge, Task
from apps.challenges.services import participation_register
from apps.leaderboards import documents
from apps.submissions.models import Score, Submission
from tests.apps.conftest import PRIMARY
from tests.conftest import make_user


def empty_caches() -> None:
    """Forget every cached leaderboard document: the shared cache's and this process's own."""
    cache.clear()
    documents.LOCAL.clear()


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Every test starts with empty leaderboard caches (they outlive the rolled-back database)."""
    empty_caches()
    yield
    empty_caches()


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def task_url(name: str, task: Task, **query: str) -> str:
    url = reverse(f"leaderboards:{name}", args=[task.challenge.slug, task.slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def challenge_url(name: str, challenge: Challenge, **query: str) -> str:
    url = reverse(f"leaderboards:{name}", args=[challenge.slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def add_private_score(submission: Submission, value: float, metric: str = PRIMARY) -> None:
    """A held-out score for the submission's current evaluation (what an evaluator with a private split writes)."""
    assert submission.current_evaluation is not None
    Score.objects.create(
        evaluation=submission.current_evaluation, split=Score.Split.PRIVATE, metric=metric, value=value
    )


def end_challenge(challenge: Challenge) -> None:
    now = timezone.now()
    Challenge.objects.filter(pk=challenge.pk).update(
        starts_at=now - dt.timedelta(days=10), ends_at=now - dt.timedelta(minutes=1)
    )
    challenge.refresh_from_db()


@pytest.fixture
def carol(challenge: Challenge) -> User:
    user = make_user("carol")
    participation_register(challenge=challenge, user=user, accept_rules=True)
    return user


@pytest.fixture
def bob(challenge: Challenge, other_participant: User) -> User:
    participation_register(challenge=challenge, user=other_participant, accept_rules=True)
    return other_participant


@pytest.fixture
def second_task(speech_task: Task) -> Task:
    """A second task of the challenge (same evaluator and data folder layout; its data is never loaded here)."""
    return Task.objects.create(
        challenge=speech_task.challenge,
        slug="speech-second",
        title="Speech second",
        evaluator_slug=speech_task.evaluator_slug,
        ml_task=speech_task.ml_task,
        config=speech_task.config,
        order=1,
    )


def rows_of(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return list(payload["rows"])
