"""A small supervisor for the local "run everything" command: it restarts a child that exits unexpectedly.

A Celery worker whose pool process is killed while it starts exits as a whole; in production a process manager
(systemd, Kubernetes) restarts it, on one machine nothing did, and the demo stopped evaluating. The supervisor
restarts such children after a back-off that doubles with each quick exit (so a child that cannot start does
not spin the CPU) and is reset once the child has run for a while, and logs every exit with its cause.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger("dataperf.supervise")


def describe_exit(returncode: int) -> str:
    """`code 3` for an exit, `signal SIGKILL` for a death by signal (Popen's negative return codes)."""
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"code {returncode}"


class Supervised:
    """One child process in its own process group (so that stopping it stops its own children, a Celery pool,
    too), with its output on this process's. `restart`: start it again when it exits while not being stopped
    (else its exit is reported by `poll`). Back-off: `min_backoff` seconds after a quick exit, doubled after
    each further quick exit up to `max_backoff`; an exit after `stable_after` seconds of running starts again
    from `min_backoff`."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        restart: bool,
        cwd: Path | None = None,
        min_backoff: float = 1.0,
        max_backoff: float = 30.0,
        stable_after: float = 60.0,
    ) -> None:
        self.name, self.argv, self.restart, self.cwd = name, list(argv), restart, cwd
        self.min_backoff, self.max_backoff, self.stable_after = min_backoff, max_backoff, stable_after
        self.backoff = min_backoff
        self.restarts = 0
        self.popen: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.restart_at: float | None = None
        """When a restart is due (monotonic seconds), while the child is down."""
        self.exit_seen = False
        """The current child's exit was logged (a child that is not restarted is reported once)."""

    def start(self, now: float | None = None) -> None:
        self.popen = subprocess.Popen(self.argv, cwd=self.cwd, start_new_session=True)
        self.started_at = time.monotonic() if now is None else now
        self.restart_at = None
        self.exit_seen = False

    def poll(self, now: float | None = None) -> bool:
        """Check the child once: restart it if it is down and its back-off has passed. False if it exited and is
        not to be restarted (the caller stops everything); True otherwise."""
        now = time.monotonic() if now is None else now
        if self.popen is None or self.popen.poll() is None:
            return True
        if not self.exit_seen:
            self._exited(self.popen.returncode, now)
        if not self.restart:
            return False
        if self.restart_at is not None and now >= self.restart_at:
            self.restarts += 1
            self.start(now)
        return True

    def _exited(self, returncode: int, now: float) -> None:
        """Log the exit and its cause, kill what is left of the group, and schedule the restart if any."""
        self.exit_seen = True
        # A worker's main process killed (or crashed) leaves its pool processes behind, still holding messages:
        # they go with it, before a new worker starts beside them.
        _signal_group(self.popen, signal.SIGKILL)
        ran = now - self.started_at
        if ran >= self.stable_after:
            self.backoff = self.min_backoff
        cause = describe_exit(returncode)
        if not self.restart:
            log.error("%s exited unexpectedly (%s) after %.1f s", self.name, cause, ran)
            return
        log.warning(
            "%s exited unexpectedly (%s) after %.1f s; restarting it in %.1f s", self.name, cause, ran, self.backoff
        )
        self.restart_at = now + self.backoff
        self.backoff = min(self.backoff * 2, self.max_backoff)

    def terminate(self) -> None:
        """Ask the child to stop; no restart follows. The signal goes to the child alone, not its group: Celery
        and gunicorn then stop their own pools (a warm shutdown); a pool process sent SIGTERM itself dies
        mid-task and the worker's shutdown stalls until it is killed."""
        self.restart = False
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)

    def wait(self, deadline: float) -> None:
        """Wait for the child until `deadline` (monotonic seconds), then kill whatever is left of its group."""
        if self.popen is None:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):  # then it is killed below
            self.popen.wait(timeout=max(deadline - time.monotonic(), 0.1))
        # Also after a clean exit: anything it left behind in its group goes too.
        _signal_group(self.popen, signal.SIGKILL)
        self.popen.wait(timeout=10)


def _signal_group(popen: subprocess.Popen[bytes] | None, signum: signal.Signals) -> None:
    if popen is None:
        return
    with contextlib.suppress(ProcessLookupError):  # nobody left in the group
        os.killpg(popen.pid, signum)


def supervise(
    children: Sequence[Supervised], *, stopping: Callable[[], bool], interval: float = 0.5, grace: float = 15.0
) -> int:
    """Start `children` and watch them until `stopping()` is true (then 0) or a child that is not restarted
    exits (then 1); either way stop them all, each given `grace` seconds for a warm shutdown."""
    for child in children:
        child.start()
    code = 0
    while not stopping():
        # Every child is polled each round (not `all()`, which stops at the first one down): restarts are due.
        down = [child.name for child in children if not child.poll()]
        if down:
            log.error("%s stopped; stopping the others", ", ".join(down))
            code = 1
            break
        time.sleep(interval)
    for child in children:
        child.terminate()
    deadline = time.monotonic() + grace
    for child in children:
        child.wait(deadline)
    return code
