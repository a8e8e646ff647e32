"""The leased attempt: the one state machine of work a worker does on a submission under a lease (an evaluation,
a verification). Claim with a conditional update, renew the lease while working (the heartbeat), record the
result only while the lease is still this worker's, and end the attempt: for good (rejected, failed), or
given back to be retried after a back-off.

Each step is a method of `LeasedAttempt`, so a caller that is not one Python block (a remote worker that
claims, heartbeats and posts its result over HTTP) can call them one at a time.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from apps.submissions.models import Submission
from apps.submissions.services.dispatch import enqueue_notification
from evaluators.inputs import safe_text

Status = Submission.Status
OnRecorded = Callable[[Submission], None]
Progress = tuple[float, str]


class Outcome(StrEnum):
    """What one attempt came to, as the services (and the Celery tasks, as their result) return it."""

    SKIPPED = "skipped"  # nothing to claim: done already, held by a live worker, cancelled ...
    SCORED = "scored"
    VERIFIED = "verified"  # and queued for evaluation
    REJECTED = "rejected"
    FAILED = "failed"  # for good, or given back to be retried
    LOST_LEASE = "lost-lease"  # another worker holds the submission now; this attempt's result was dropped


_ENDED = {Status.REJECTED: Outcome.REJECTED, Status.FAILED: Outcome.FAILED}


class Enqueue(Protocol):
    def __call__(self, submission_id: int, *, countdown: float = 0) -> None: ...


@dataclass(frozen=True)
class LeasedJob:
    """One kind of work done under a lease: what differs between an evaluation and a verification."""

    held: Status
    """The state of a submission while a worker holds its lease (the claim writes it)."""
    free: Q
    """The submissions that may be claimed besides those `held` under an expired lease (their worker died)."""
    waiting: Status
    """The state a retried attempt waits in for the message that `enqueue` sends."""
    enqueue: Enqueue
    """Sends the message that runs the job, once the transaction commits (a retry's with a back-off)."""
    first_step: str
    """The progress message written by the claim."""
    interrupted: str
    """The message of a submission failed because its earlier attempts were all interrupted (`{times}`)."""
    message_while_retrying: bool
    """Whether a retried attempt's failure message is shown while it waits, or only if it fails for good."""

    def attempt(self, *, submission_id: int, worker: str) -> LeasedAttempt:
        return LeasedAttempt(self, submission_id, worker)


def worker_name() -> str:
    """Unique per claim: host, process and a random part, so two claims never share an owner name."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def lease_deadline(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) + dt.timedelta(seconds=settings.EVALUATION_LEASE_SECONDS)


def retry_countdown(attempts: int) -> float:
    """Seconds before a retried attempt runs again: doubling with each attempt, at most five minutes."""
    return float(min(5 * 2**attempts, 300))


class LeasedAttempt:
    """One worker's attempt at one submission. Every write after the claim is conditional on this worker still
    holding the lease, so an attempt that lost it (the reaper gave the submission to another worker after
    the lease expired) writes nothing: the attempt that holds it decides. Safe to repeat at every step."""

    def __init__(self, job: LeasedJob, submission_id: int, worker: str) -> None:
        self.job = job
        self.submission_id = submission_id
        self.worker = worker

    def claim(self) -> Submission | None:
        """Take the submission: free, or `held` under an expired lease. One conditional UPDATE, so of two
        workers racing for the same row exactly one wins. None when there is nothing to claim."""
        now = timezone.now()
        claimable = self.job.free | Q(status=self.job.held, lease_expires_at__lt=now)
        claimed = Submission.objects.filter(claimable, pk=self.submission_id).update(
            status=self.job.held,
            lease_owner=self.worker,
            lease_expires_at=lease_deadline(now),
            started_at=now,
            attempts=F("attempts") + 1,
            progress=0.0,
            progress_message=self.job.first_step,
        )
        if not claimed:
            return None
        return Submission.objects.select_related("task__challenge", "division", "team").get(pk=self.submission_id)

    def begin(self) -> Submission | Outcome:
        """`claim`, and fail a submission whose earlier attempts were all interrupted (each worker died) once
        they exceed the budget. The claimed submission to work on, or the outcome: SKIPPED or FAILED."""
        submission = self.claim()
        if submission is None:
            return Outcome.SKIPPED
        if submission.attempts > settings.EVALUATION_MAX_ATTEMPTS:
            return self.end(status=Status.FAILED, message=self.job.interrupted.format(times=submission.attempts - 1))
        return submission

    def heartbeat(self) -> LeaseKeeper:
        """The thread that renews the lease while the caller works: `with attempt.heartbeat() as keeper:`."""
        return LeaseKeeper(self)

    def renew(self, progress: Progress | None = None) -> bool:
        """Extend the lease, writing the progress (fraction, message) if given. False when the lease is no longer
        ours: stop, this attempt's result will be dropped. Raises `DatabaseError` (the caller retries)."""
        fields: dict[str, Any] = {"lease_expires_at": lease_deadline()}
        if progress is not None:
            fraction, message = progress
            # safe_text: a plug-in evaluator's text; a NUL would make every heartbeat write fail (lease lost).
            # Cut after escaping, which lengthens the text: over the column's 200 the write would fail alike.
            fields.update(progress=min(max(float(fraction), 0.0), 1.0), progress_message=safe_text(message)[:200])
        return bool(self._held().update(**fields))

    def record(self, write: OnRecorded) -> bool:
        """Call `write` with the submission locked, in one transaction, if this worker still holds the lease;
        `write` stores the result and ends the lease (`release`). False, writing nothing, when the lease is
        no longer ours: the attempt that holds it records."""
        with transaction.atomic():
            locked = Submission.objects.select_for_update().get(pk=self.submission_id)
            if locked.status != self.job.held or locked.lease_owner != self.worker:
                return False
            write(locked)
        return True

    def release(self, **fields: Any) -> bool:
        """End the lease, writing `fields` in the same conditional UPDATE. False, writing nothing, when the lease
        is no longer ours."""
        return bool(self._held().update(lease_owner="", lease_expires_at=None, **fields))

    def end(self, *, status: Status, message: str, on_finished: OnRecorded | None = None) -> Outcome:
        """End the attempt for good: `status` (rejected or failed) with `message` for the participant, who is
        notified. `on_finished` runs in the same transaction when the submission ranked before (a rescore or a
        re-verification that rejects it): its leaderboard must drop it. LOST_LEASE when the lease is no
        longer ours (nothing written)."""
        with transaction.atomic():
            # safe_text: an evaluator's message may hold characters PostgreSQL refuses (see `_finish` of validation).
            if not self.release(status=status, message=safe_text(message), finished_at=timezone.now()):
                return Outcome.LOST_LEASE
            enqueue_notification(self.submission_id)
            if on_finished is not None:
                ended = Submission.objects.select_related("task", "division").get(pk=self.submission_id)
                if ended.current_evaluation_id is not None:
                    on_finished(ended)
        return _ENDED[status]

    def retry(self, *, message: str) -> Outcome:
        """Give the submission back to be tried again after a back-off (`waiting`, its message sent again), or,
        once the attempts are spent, fail it for good with `message`. FAILED either way; LOST_LEASE when the
        lease is no longer ours (nothing written)."""
        with transaction.atomic():
            locked = Submission.objects.select_for_update().get(pk=self.submission_id)
            if locked.status != self.job.held or locked.lease_owner != self.worker:
                return Outcome.LOST_LEASE
            if locked.attempts >= settings.EVALUATION_MAX_ATTEMPTS:
                return self.end(status=Status.FAILED, message=message)
            shown = {"message": safe_text(message)} if self.job.message_while_retrying else {}
            self.release(
                status=self.job.waiting, queued_at=timezone.now(), progress_message="Waiting to retry", **shown
            )
            self.job.enqueue(self.submission_id, countdown=retry_countdown(locked.attempts))
        return Outcome.FAILED

    def _held(self) -> QuerySet[Submission]:
        return Submission.objects.filter(pk=self.submission_id, status=self.job.held, lease_owner=self.worker)


class LeaseKeeper:
    """Renews the lease and writes progress from a background thread while the caller works.

    Progress is written at most once a second; the lease at least every third of its length. If the lease is
    no longer ours (the reaper gave the submission to another worker after it expired), `lost` is set and the
    result of this attempt will be dropped by `LeasedAttempt.record`.
    """

    TICK = 1.0

    def __init__(self, attempt: LeasedAttempt) -> None:
        self.attempt = attempt
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._thread = threading.Thread(target=self._run, name=f"lease-{attempt.submission_id}", daemon=True)

    def report(self, fraction: float, message: str) -> None:
        with self._lock:
            self._progress = (float(fraction), message)

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

    def _write(self, progress: Progress | None) -> None:
        try:
            close_old_connections()
            held = self.attempt.renew(progress)
        except DatabaseError:
            # A dropped connection: the next tick reconnects; the lease has a margin of two renewals.
            connection.close()
            return
        if not held:
            self.lost.set()
