"""Workers' heartbeats in the database, for the back office (the supervisor and systemd read other signs)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from apps.core.models import WorkerHeartbeat

FORGOTTEN_AFTER = dt.timedelta(days=1)
"""A worker silent this long is gone (replaced, or its host retired): its row is deleted."""


@dataclass(frozen=True)
class RunningTask:
    name: str
    id: str
    args: str
    started_at: dt.datetime | None


@dataclass(frozen=True)
class Heartbeat:
    name: str
    pid: int
    queues: tuple[str, ...]
    pool_size: int
    started_at: dt.datetime
    consuming: bool
    reason: str = ""
    tasks: tuple[RunningTask, ...] = field(default=())


def worker_heartbeat_record(*, beat: Heartbeat) -> None:
    """Write `beat` as its worker's row (created on its first beat), and forget workers silent for a day.
    Idempotent; the `reason` is cut to the column's length."""
    now = timezone.now()
    defaults: dict[str, object] = {
        "pid": beat.pid,
        "queues": ",".join(beat.queues)[:300],
        "pool_size": beat.pool_size,
        "started_at": beat.started_at,
        "beat_at": now,
        "consuming": beat.consuming,
        "reason": beat.reason[:300],
        "tasks": [_task_json(task) for task in beat.tasks],
    }
    if beat.consuming:
        defaults["consuming_at"] = now
    WorkerHeartbeat.objects.update_or_create(name=beat.name, defaults=defaults)
    WorkerHeartbeat.objects.filter(beat_at__lt=now - FORGOTTEN_AFTER).delete()


def _task_json(task: RunningTask) -> dict[str, str | None]:
    started = task.started_at.isoformat() if task.started_at else None
    return {"name": task.name, "id": task.id, "args": task.args[:200], "started_at": started}
