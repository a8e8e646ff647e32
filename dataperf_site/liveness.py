"""A worker proves that it consumes, and its shutdown is bounded (issue 21).

A worker whose process is alive may still evaluate nothing: its consumer loop blocked on a broker that came back,
its pool unable to take jobs, the whole process stopped (SIGSTOP). So each worker checks itself every
WORKER_HEARTBEAT_SECONDS, from a thread of its main process:

- its consumer loop turned lately: the loop itself stamps the time (a timer on its event loop, or, on the
  embedded broker's blocking loop, each pass through the loop);
- no message it received has waited WORKER_STALL_SECONDS to start while a pool process was free;
- the broker's queues it consumes have not held messages for WORKER_STALL_SECONDS while it had a free pool
  process and took none.

Only when all three hold does it feed its watchdogs: the heartbeat file named by DATAPERF_HEARTBEAT_FILE (the
`make run` supervisor, scripts/supervise.py) and systemd's WATCHDOG=1 (deploy/). Either replaces a worker that
stops feeding it; a stopped process feeds nothing. Each beat is also written to the database for the back office
(apps.core.heartbeats). A warm shutdown still running after WORKER_SHUTDOWN_SECONDS becomes a cold one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from celery import bootsteps
from celery.signals import task_received, worker_ready, worker_shutting_down
from celery.worker import state as worker_state
from celery.worker.request import Request
from django.conf import settings

log = logging.getLogger("dataperf.liveness")

HEARTBEAT_FILE_ENV = "DATAPERF_HEARTBEAT_FILE"


@dataclass(frozen=True)
class Observation:
    """What a worker sees of itself at one heartbeat; times are monotonic seconds."""

    now: float
    loop_at: float
    pool_size: int
    active: int
    waiting_since: float | None
    """When the oldest message received and not yet started by the pool arrived; None if none waits."""
    backlog_since: float | None
    """Since when its queues in the broker have held messages without a break; None if empty (or unknown)."""
    received_at: float
    """When it last took a message (its start, before the first)."""


def stall_reason(seen: Observation, *, stall_after: float) -> str | None:
    """Why the worker does not consume, or None if it does (the three checks of this module's docstring)."""
    if seen.now - seen.loop_at > stall_after:
        return f"its consumer loop has not turned for {seen.now - seen.loop_at:.0f} s"
    free = seen.pool_size - seen.active
    if free <= 0:
        return None
    if seen.waiting_since is not None and seen.now - seen.waiting_since > stall_after:
        return (
            f"a message received {seen.now - seen.waiting_since:.0f} s ago has not started, "
            f"with {free} of {seen.pool_size} pool processes free"
        )
    if (
        seen.backlog_since is not None
        and seen.now - seen.backlog_since > stall_after
        and seen.now - seen.received_at > stall_after
    ):
        return (
            f"messages have waited in the broker for {seen.now - seen.backlog_since:.0f} s and it took none, "
            f"with {free} of {seen.pool_size} pool processes free"
        )
    return None


def sd_notify(message: str) -> bool:
    """Send `message` to systemd (the NOTIFY_SOCKET datagram protocol); False when not run by systemd."""
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        sock.connect(address)
        sock.sendall(message.encode())
    return True


def write_heartbeat_file(path: Path, *, reason: str | None, consuming_at: float) -> None:
    """Replace `path` with this beat (wall-clock seconds), atomically: the supervisor never reads half a file."""
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps({"at": time.time(), "consuming_at": consuming_at, "reason": reason}))
    partial.replace(path)


class Received:
    """When each message still waiting in this worker arrived, and when the last one did (task_received runs in
    the consumer loop, so this is the loop's own record)."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.last = time.monotonic()

    def add(self, request: Request) -> None:
        self.last = time.monotonic()
        self.at[request.id] = self.last

    def oldest_waiting(self, reserved: Iterable[Request], active: Iterable[Request]) -> float | None:
        started = {request.id for request in active}
        waiting = {request.id for request in reserved} - started
        for gone in set(self.at) - waiting:
            self.at.pop(gone, None)
        return min((self.at[rid] for rid in waiting if rid in self.at), default=None)


RECEIVED = Received()


@task_received.connect
def _on_received(request: Request | None = None, **kwargs: object) -> None:
    if request is not None:
        RECEIVED.add(request)


@worker_ready.connect
def _on_ready(**kwargs: object) -> None:
    sd_notify("READY=1")


@worker_shutting_down.connect
def _bound_the_shutdown(how: str = "", **kwargs: object) -> None:
    """A warm shutdown waits for the tasks that run; past WORKER_SHUTDOWN_SECONDS it turns cold (SIGQUIT): the
    pool is killed and the unacknowledged messages go back to the broker."""
    with contextlib.suppress(OSError):
        sd_notify("STOPPING=1")
    if how != "Warm":
        return
    bound = settings.WORKER_SHUTDOWN_SECONDS
    pid = os.getpid()

    def cold() -> None:
        log.warning("the warm shutdown did not finish within %s s; shutting down cold", bound)
        os.kill(pid, signal.SIGQUIT)

    timer = threading.Timer(bound, cold)
    timer.daemon = True
    timer.start()


def _snapshot(requests: Iterable[Request]) -> list[Request]:
    """A copy of one of Celery's request sets, which the consumer loop changes while this thread reads it."""
    for _ in range(5):
        with contextlib.suppress(RuntimeError):  # changed size during iteration: read it again
            return list(requests)
    return []


class Heartbeat(threading.Thread):
    """The thread that checks the worker every WORKER_HEARTBEAT_SECONDS and reports (module docstring)."""

    def __init__(self, consumer: Any) -> None:
        super().__init__(name="dataperf-heartbeat", daemon=True)
        self.consumer = consumer
        self.loop_at = time.monotonic()
        self.backlog_since: float | None = None
        self.consuming_at = time.time()
        self.started_at = dt.datetime.now(dt.UTC)
        self.reason: str | None = None
        path = os.environ.get(HEARTBEAT_FILE_ENV, "")
        self.file = Path(path) if path else None

    def tick(self) -> None:
        """Called by the consumer loop on each turn."""
        self.loop_at = time.monotonic()

    def run(self) -> None:
        # The first beat as soon as the consumer starts: a worker stopped before it would be replaced only after
        # the supervisor's start timeout, and one stopped after it within the stall bound.
        while True:
            try:
                self.beat()
            except Exception:  # the next beat tries again; a worker that cannot report is replaced
                log.exception("the heartbeat failed")
            time.sleep(settings.WORKER_HEARTBEAT_SECONDS)

    def beat(self) -> None:
        active = _snapshot(worker_state.active_requests)
        seen = Observation(
            now=time.monotonic(),
            loop_at=self.loop_at,
            pool_size=self._pool_size(),
            active=len(active),
            waiting_since=RECEIVED.oldest_waiting(_snapshot(worker_state.reserved_requests), active),
            backlog_since=self._backlog_since(),
            received_at=RECEIVED.last,
        )
        reason = stall_reason(seen, stall_after=settings.WORKER_STALL_SECONDS)
        if reason is not None and reason != self.reason:
            log.error("not consuming: %s", reason)
        elif reason is None and self.reason is not None:
            log.info("consuming again")
        self.reason = reason
        if reason is None:
            self.consuming_at = time.time()
            sd_notify("WATCHDOG=1")
        else:
            sd_notify(f"STATUS=stalled: {reason}")
        if self.file is not None:
            write_heartbeat_file(self.file, reason=reason, consuming_at=self.consuming_at)
        self._record(active)

    def _pool_size(self) -> int:
        pool = self.consumer.pool
        return int(getattr(pool, "num_processes", None) or pool.limit or 1)

    def _queues(self) -> list[str]:
        tasks = self.consumer.task_consumer
        return [queue.name for queue in tasks.queues] if tasks is not None else []

    def _backlog_since(self) -> float | None:
        """Since when this worker's queues have held messages without a break (None if empty or unknown)."""
        try:
            with self.consumer.app.connection_for_read() as connection:
                channel = connection.default_channel
                waiting = sum(channel.queue_declare(name, passive=True).message_count for name in self._queues())
        except Exception as exc:  # the broker is away: the consumer loop's own check says so
            log.warning("could not count the waiting messages (%s)", exc)
            return self.backlog_since
        if not waiting:
            self.backlog_since = None
        elif self.backlog_since is None:
            self.backlog_since = time.monotonic()
        return self.backlog_since

    def _record(self, active: list[Request]) -> None:
        # The models load once the worker has set Django up, which it does before any consumer step starts.
        from apps.core.heartbeats import Heartbeat as Beat
        from apps.core.heartbeats import RunningTask, worker_heartbeat_record

        tasks = tuple(
            RunningTask(
                name=request.name,
                id=request.id,
                args=str(request.argsrepr),
                started_at=dt.datetime.fromtimestamp(request.time_start, dt.UTC) if request.time_start else None,
            )
            for request in active
        )
        beat = Beat(
            name=self.consumer.hostname,
            pid=os.getpid(),
            queues=tuple(self._queues()),
            pool_size=self._pool_size(),
            started_at=self.started_at,
            consuming=self.reason is None,
            reason=self.reason or "",
            tasks=tasks,
        )
        try:
            worker_heartbeat_record(beat=beat)
        finally:
            _close_database_connection()


def _close_database_connection() -> None:
    """This thread's connection is opened per beat: a long-lived one would hold a PostgreSQL backend idle."""
    from django.db import connection

    connection.close()


class Liveness(bootsteps.StartStopStep):
    """A step of the consumer: the loop stamps each turn, and the heartbeat thread starts once per worker."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: object) -> None:
        super().__init__(parent, **kwargs)
        self.heartbeat: Heartbeat | None = None
        self.timer_entry: Any = None

    def start(self, parent: Any) -> None:
        if self.heartbeat is None:
            self.heartbeat = Heartbeat(parent)
            self.heartbeat.start()
        tick = self.heartbeat.tick
        tick()
        if parent.hub is not None:
            # An event loop: a timer it runs itself, between the events it handles.
            self.timer_entry = parent.hub.call_repeatedly(1.0, tick)
        elif not getattr(parent, "_dataperf_ticks", False):
            # The blocking loop (the embedded broker) calls this on every pass, at least every two seconds.
            parent.perform_pending_operations = _ticking(parent.perform_pending_operations, tick)
            parent._dataperf_ticks = True

    def stop(self, parent: Any) -> None:
        if self.timer_entry is not None and parent.hub is not None:
            parent.hub.timer.cancel(self.timer_entry)
            self.timer_entry = None


def _ticking(operation: Callable[[], None], tick: Callable[[], None]) -> Callable[[], None]:
    def wrapped() -> None:
        tick()
        operation()

    return wrapped
