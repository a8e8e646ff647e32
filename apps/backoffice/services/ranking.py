"""Rebuilding the leaderboards an organizer's change affects, in the caller's transaction."""

from __future__ import annotations

from django.db import transaction

from apps.challenges.models import Task
from apps.jobs.collective import collective_request, is_collective
from apps.leaderboards.services import leaderboards_rebuild_for_task


def task_leaderboards_rebuild(*, task: Task, field_changed: bool = False) -> int:
    """Rebuild every leaderboard of the task (each division, each split) from scratch; returns how many. All of
    them, not only the changed submission's: a handful of boards per task, and a move between divisions or a
    rule change touches several.

    `field_changed`: the set of competing submissions changed (a disqualification or its undoing). In a
    collective benchmark, where an item's credit is shared among the submissions holding it, that changes the
    others' scores too: a task-wide rescore is queued once the transaction commits."""
    with transaction.atomic():
        rebuilt = leaderboards_rebuild_for_task(task=task)
        if field_changed and is_collective(task):
            collective_request(task=task)
    return rebuilt
