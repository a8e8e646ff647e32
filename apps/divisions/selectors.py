"""Reads of divisions."""

from __future__ import annotations

from django.db.models import Q

from apps.challenges.models import Task
from apps.core.errors import NotFound
from apps.divisions.models import Division


def divisions_of_task(*, task: Task) -> list[Division]:
    """The divisions that accept submissions to the task (a division with no tasks listed accepts all)."""
    return list(
        Division.objects.filter(challenge_id=task.challenge_id)
        .filter(Q(tasks=task) | Q(tasks__isnull=True))
        .distinct()
        .order_by("order", "slug")
    )


def division_of_task(*, task: Task, slug: str | None) -> Division:
    """The division named by `slug` (or the task's first one), raising `NotFound` if it does not accept it."""
    divisions = divisions_of_task(task=task)
    if not divisions:
        raise NotFound("This task has no division.")
    if not slug:
        return divisions[0]
    for division in divisions:
        if division.slug == slug:
            return division
    raise NotFound("No such division for this task.")
