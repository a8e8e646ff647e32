"""The one model of the shared leaf: each Celery worker's last heartbeat (apps.core.heartbeats writes it)."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """What a worker said about itself at its last heartbeat (dataperf_site/liveness.py, every
    WORKER_HEARTBEAT_SECONDS): whether it proved that it consumes, why not, and the tasks its pool runs.
    One row per worker node name; a worker gone for a day is forgotten."""

    name = models.CharField(max_length=200, unique=True, help_text="The Celery node name (name@host).")
    pid = models.PositiveIntegerField()
    queues = models.CharField(max_length=300)
    pool_size = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True, help_text="When the worker last wrote this row.")
    consuming = models.BooleanField(help_text="Its consumer loop turns and it takes the messages that wait.")
    consuming_at = models.DateTimeField(null=True, help_text="The last heartbeat that proved it consumes.")
    reason = models.CharField(max_length=300, blank=True, help_text="Why it does not consume, when it does not.")
    tasks = models.JSONField(default=list, help_text="The tasks its pool runs: name, id, arguments, since when.")

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name
