"""A small supervisor for the local "run everything" command: it restarts a child that exits unexpectedly, and
replaces one that stalls.

A Celery worker whose pool process is killed while it starts exits as a whole; in production a process manager
(systemd, Kubernetes) restarts it, on one machine nothing did, and the demo stopped evaluating. The supervisor
restarts such children after a back-off that doubles with each quick exit (so a child that cannot start does
not spin the CPU) and is reset once the child has run for a while, and logs every exit with its cause.

A worker can also stall while alive (issue 21): it then stops proving that it consumes in its heartbeat file
(dataperf_site/liveness.py writes it; a stopped process writes nothing). A child given a heartbeat file is
replaced once its last proof is older than `stall_after` (`start_timeout` before its first one): it is asked to
stop (SIGTERM, and SIGCONT so that a stopped one hears it), killed with its group if it has not exited
`stop_timeout` seconds later, and restarted as after an exit.
"""

from __future__ import annotations

import contextlib
import json
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
        heartbeat: Path | None = None,
        stall_after: float = 30.0,
        start_timeout: float = 90.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.name, self.argv, self.restart, self.cwd = name, list(argv), restart, cwd
        self.heartbeat, self.stall_after, self.start_timeout = heartbeat, stall_after, start_timeout
        self.stop_timeout = stop_timeout
        self.kill_at: float | None = None
        """While a stalled child is being stopped: when its group is killed (monotonic seconds)."""
        self.min_backoff, self.max_backoff, self.stable_after = min_backoff, max_backoff, stable_after
        self.backoff = min_backoff
        self.restarts = 0
        self.popen: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.started_wall = 0.0
        self.restart_at: float | None = None
        """When a restart is due (monotonic seconds), while the child is down."""
        self.exit_seen = False
        """The current child's exit was logged (a child that is not restarted is reported once)."""

    def start(self, now: float | None = None) -> None:
        env = None
        if self.heartbeat is not None:
            # A proof left by the previous child must not vouch for this one.
            self.heartbeat.unlink(missing_ok=True)
            env = {**os.environ, "DATAPERF_HEARTBEAT_FILE": str(self.heartbeat)}
        self.popen = subprocess.Popen(self.argv, cwd=self.cwd, env=env, start_new_session=True)
        self.started_at = time.monotonic() if now is None else now
        self.started_wall = time.time()
        self.restart_at = None
        self.kill_at = None
        self.exit_seen = False

    def poll(self, now: float | None = None) -> bool:
        """Check the child once: restart it if it is down and its back-off has passed. False if it exited and is
        not to be restarted (the caller stops everything); True otherwise."""
        now = time.monotonic() if now is None else now
        if self.popen is None:
            return True
        if self.popen.poll() is None:
            self._watch(now)
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

    def stall(self, wall: float | None = None) -> str | None:
        """Why the running child counts as stalled, or None: its heartbeat file's last proof that it consumes
        is older than `stall_after` (none yet after `start_timeout`). `wall`: the time (time.time())."""
        if self.heartbeat is None:
            return None
        wall = time.time() if wall is None else wall
        try:
            beat = json.loads(self.heartbeat.read_text())
        except (OSError, ValueError):
            if wall - self.started_wall > self.start_timeout:
                return f"no heartbeat within {self.start_timeout:.0f} s of its start"
            return None
        silent = wall - float(beat["consuming_at"])
        if silent <= self.stall_after:
            return None
        if wall - float(beat["at"]) > self.stall_after:
            return f"no heartbeat for {wall - float(beat['at']):.0f} s (the process is stopped or hung)"
        return f"not consuming for {silent:.0f} s: {beat['reason']}"

    def _watch(self, now: float) -> None:
        """A running child: stop it if it stalled; kill its group if a stop asked earlier is overdue."""
        if self.kill_at is not None:
            if now >= self.kill_at:
                log.error("%s did not stop within %.0f s; killing it", self.name, self.stop_timeout)
                _signal_group(self.popen, signal.SIGKILL)
                self.kill_at = None
            return
        reason = self.stall()
        if reason is None:
            return
        log.error(
            "%s stalled (%s); replacing it (SIGTERM, then SIGKILL after %.0f s)", self.name, reason, self.stop_timeout
        )
        self._ask_to_stop()
        self.kill_at = now + self.stop_timeout

    def _ask_to_stop(self) -> None:
        """SIGTERM to the child alone (see `terminate`), then SIGCONT so that a stopped child wakes to handle it."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            _signal_group(self.popen, signal.SIGCONT)

    def terminate(self) -> None:
        """Ask the child to stop; no restart follows. The signal goes to the child alone, not its group: Celery
        and gunicorn then stop their own pools (a warm shutdown); a pool process sent SIGTERM itself dies
        mid-task and the worker's shutdown stalls until it is killed."""
        self.restart = False
        self._ask_to_stop()

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
