"""Fixtures of the back-office tests: a staff member in the admin, two teams' scored submissions on the speech
task's leaderboard, and a way to check that a leaderboard is what a rebuild from scratch makes of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from apps.challenges.models import AuditEntry, Task
from apps.divisions.models import Division
from apps.leaderboards.models import Leaderboard
from apps.leaderboards.services import leaderboard_rebuild
from apps.submissions.models import Score, Submission
from tests.apps.conftest import make_scored_submission
from tests.conftest import make_user

Row = tuple[int, int, int, float, bool]


@dataclass(frozen=True)
class Board:
    """Two teams ranked on the speech task's public open leaderboard: alice (0.7) above bob (0.5)."""

    task: Task
    division: Division
    alice: Submission
    bob: Submission


@pytest.fixture
def staff_user(db: None) -> User:
    return make_user("staff", staff=True)


@pytest.fixture
def staff(client: Client, staff_user: User) -> Client:
    client.force_login(staff_user)
    return client


@pytest.fixture
def board(speech_task: Task, open_division: Division, participant: User, other_participant: User) -> Board:
    alice = make_scored_submission(task=speech_task, division=open_division, user=participant, primary=0.7)
    bob = make_scored_submission(task=speech_task, division=open_division, user=other_participant, primary=0.5)
    leaderboard_rebuild(task=speech_task, division=open_division)
    return Board(task=speech_task, division=open_division, alice=alice, bob=bob)


def rows(task: Task, division: Division, split: str = Score.Split.PUBLIC) -> list[Row]:
    """The leaderboard's entries as (rank, team, submission, primary, baseline), in rank order."""
    leaderboard = Leaderboard.objects.filter(task=task, division=division, split=split).first()
    if leaderboard is None:
        return []
    return [
        (e.rank, e.team_id, e.submission_id, e.primary, e.is_baseline)
        for e in leaderboard.entries.order_by("rank", "submission_id")
    ]


def version(task: Task, division: Division, split: str = Score.Split.PUBLIC) -> int:
    found = Leaderboard.objects.filter(task=task, division=division, split=split).values_list("version", flat=True)
    return found.first() or 0


def assert_boards_fresh(task: Task) -> None:
    """Every leaderboard of the task holds what a rebuild from scratch computes now (nothing is stale)."""
    task = Task.objects.get(pk=task.pk)  # as stored now, ranking rule included
    boards = list(Leaderboard.objects.filter(task=task).select_related("division"))
    assert boards
    for leaderboard in boards:
        stored = rows(task, leaderboard.division, leaderboard.split)
        leaderboard_rebuild(task=task, division=leaderboard.division, split=leaderboard.split)
        assert rows(task, leaderboard.division, leaderboard.split) == stored, str(leaderboard)


def run_action(client: Client, model: str, action: str, selected: list[int], **data: Any) -> Any:
    """Post an admin changelist action (with the intermediate form's fields, if any) and follow the redirect."""
    body = {"action": action, "_selected_action": selected, **data}
    return client.post(reverse(f"admin:{model}_changelist"), body, follow=True)


def entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.order_by("pk"))
