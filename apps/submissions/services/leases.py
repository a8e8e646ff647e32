"""The lease a worker holds on the submission it evaluates, renewed by a heartbeat thread with the progress."""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
import uuid

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from apps.submissions.models import Submission
from evaluators.inputs import safe_text


def worker_name() -> str:
    """Unique per claim: host, process and a random part, so two claims never share an owner name."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def lease_deadline(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) + dt.timedelta(seconds=settings.EVALUATION_LEASE_SECONDS)


class LeaseKeeper:
    """Renews the lease and writes progress from a background thread while the evaluator runs.

    Progress is written at most once a second; the lease at least every third of its length. If the row is
    no longer ours (the reaper gave it to another worker after our lease expired), `lost` is set and the
    result of this run will be discarded by `submission_record`.
    """

    TICK = 1.0

    def __init__(self, submission_id: int, worker: str, *, status: str = Submission.Status.RUNNING) -> None:
        self.submission_id = submission_id
        self.worker = worker
        self.status = status
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._progress: tuple[float, str] | None = None
        self._thread = threading.Thread(target=self._run, name=f"lease-{submission_id}", daemon=True)

    def report(self, fraction: float, message: str) -> None:
        with self._lock:
            # safe_text: a plug-in evaluator's text; a NUL would make every heartbeat write fail (lease lost).
            self._progress = (min(max(float(fraction), 0.0), 1.0), safe_text(message[:200]))

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        renew_every = settings.EVALUATION_LEASE_SECONDS / 3
        last_renewal = time.monotonic()
        try:
            while not self._stop.wait(self.TICK):
                with self._lock:
                    progress, self._progress = self._progress, None
                if progress is None and time.monotonic() - last_renewal < renew_every:
                    continue
                self._write(progress)
                last_renewal = time.monotonic()
        finally:
            connection.close()

    def _write(self, progress: tuple[float, str] | None) -> None:
        fields: dict[str, object] = {"lease_expires_at": lease_deadline()}
        if progress is not None:
            fields.update(progress=progress[0], progress_message=progress[1])
        try:
            close_old_connections()
            updated = Submission.objects.filter(
                pk=self.submission_id, status=self.status, lease_owner=self.worker
            ).update(**fields)
        except DatabaseError:
            # A dropped connection: the next tick reconnects; the lease has a margin of two renewals.
            connection.close()
            return
        if not updated:
            self.lost.set()
