"""The workers in the admin (staff only), read-only: each one's last heartbeat, whether it consumes, why not,
and the tasks its pool runs (rows written by the workers themselves, dataperf_site/liveness.py)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone

from apps.core.models import WorkerHeartbeat


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin[WorkerHeartbeat]):
    list_display = ["name", "state", "beat_at", "seconds_since_beat", "doing", "queues", "pool_size", "pid"]
    list_filter = ["consuming"]
    fields = readonly_fields = (
        "name",
        "pid",
        "queues",
        "pool_size",
        "started_at",
        "beat_at",
        "consuming",
        "consuming_at",
        "reason",
        "tasks",
    )

    @admin.display(description="state")
    def state(self, beat: WorkerHeartbeat) -> str:
        return "consuming" if beat.consuming else f"stalled: {beat.reason}"

    @admin.display(description="seconds since")
    def seconds_since_beat(self, beat: WorkerHeartbeat) -> int:
        """A worker that stopped beating (stopped, killed) says nothing more: its silence is shown here."""
        return int((timezone.now() - beat.beat_at).total_seconds())

    @admin.display(description="doing")
    def doing(self, beat: WorkerHeartbeat) -> str:
        tasks = beat.tasks if isinstance(beat.tasks, list) else []
        return "; ".join(f"{task['name']}{task['args']}" for task in tasks) or "idle"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: WorkerHeartbeat | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: WorkerHeartbeat | None = None) -> bool:
        return False
