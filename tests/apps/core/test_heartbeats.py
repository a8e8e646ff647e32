"""The workers' heartbeats in the database (apps.core.heartbeats): one row per worker, rewritten at each beat,
the last proof that it consumed kept while it does not, and a worker silent for a day forgotten."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.core.heartbeats import FORGOTTEN_AFTER, Heartbeat, RunningTask, worker_heartbeat_record
from apps.core.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def _beat(name: str = "worker@host", *, consuming: bool = True, reason: str = "", **changes: object) -> Heartbeat:
    fields: dict[str, object] = {
        "name": name,
        "pid": 100,
        "queues": ("evaluate", "maintenance"),
        "pool_size": 2,
        "started_at": timezone.now(),
        "consuming": consuming,
        "reason": reason,
        **changes,
    }
    return Heartbeat(**fields)  # type: ignore[arg-type]  # the fields of Heartbeat


def test_the_first_beat_creates_the_workers_row_with_its_tasks() -> None:
    started = timezone.now()
    task = RunningTask(name="apps.jobs.tasks.evaluate", id="abc", args="(7,)", started_at=started)
    worker_heartbeat_record(beat=_beat(tasks=(task,)))
    row = WorkerHeartbeat.objects.get()
    assert (row.name, row.pid, row.queues, row.pool_size, row.consuming) == (
        "worker@host",
        100,
        "evaluate,maintenance",
        2,
        True,
    )
    assert row.consuming_at == row.beat_at
    assert row.tasks == [
        {"name": "apps.jobs.tasks.evaluate", "id": "abc", "args": "(7,)", "started_at": started.isoformat()}
    ]


def test_a_stalled_beat_keeps_the_last_proof_that_it_consumed() -> None:
    worker_heartbeat_record(beat=_beat())
    proof = WorkerHeartbeat.objects.get().consuming_at
    worker_heartbeat_record(beat=_beat(consuming=False, reason="its consumer loop has not turned for 40 s"))
    row = WorkerHeartbeat.objects.get()
    assert row.consuming is False and row.reason == "its consumer loop has not turned for 40 s"
    assert proof is not None and row.consuming_at == proof and row.beat_at > proof
    assert row.tasks == []


def test_a_long_reason_and_long_arguments_are_cut_to_their_columns() -> None:
    task = RunningTask(name="t", id="1", args="x" * 500, started_at=None)
    worker_heartbeat_record(beat=_beat(consuming=False, reason="r" * 500, tasks=(task,)))
    row = WorkerHeartbeat.objects.get()
    assert len(row.reason) == 300 and len(row.tasks[0]["args"]) == 200 and row.tasks[0]["started_at"] is None


def test_workers_silent_for_a_day_are_forgotten_and_the_others_kept() -> None:
    worker_heartbeat_record(beat=_beat("gone@host"))
    worker_heartbeat_record(beat=_beat("quiet@host"))
    now = timezone.now()
    WorkerHeartbeat.objects.filter(name="gone@host").update(beat_at=now - FORGOTTEN_AFTER - dt.timedelta(minutes=1))
    WorkerHeartbeat.objects.filter(name="quiet@host").update(beat_at=now - FORGOTTEN_AFTER + dt.timedelta(minutes=5))
    worker_heartbeat_record(beat=_beat("alive@host"))
    assert sorted(WorkerHeartbeat.objects.values_list("name", flat=True)) == ["alive@host", "quiet@host"]
