"""The workers' process pool: Celery's prefork pool, with locks between pool processes that a SIGKILL cannot leak.

On a broker without an event loop (the embedded file-system broker), Celery runs billiard's threaded `Pool`,
whose pool processes take jobs from one shared pipe under one `multiprocessing.Lock`. An idle pool process waits
for its next job while holding that lock; killed then (the OOM killer, a crash in native code), it never releases
it, and every later pool process waits for the lock forever: the worker still receives messages, runs none, and
its prefetch slots stay taken (issue 21). The same holds for the lock around the shared results pipe. Here both
are POSIX record locks on a file, which the kernel releases when their holder dies. On Redis Celery runs its
asynchronous pool (a pipe per pool process, no shared lock), which this class leaves as it is.

Selected by settings.CELERY_WORKER_POOL for every worker.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from billiard.pool import Pool as BlockingPool
from celery.concurrency.prefork import TaskPool as PreforkTaskPool

TERMINATE_LOCK_SECONDS = 2.0
"""How long a terminating pool waits for the jobs lock before it terminates its pool processes anyway."""


class DeathSafeLock:
    """A lock between processes (and between the threads of each) that is released when its holder dies: a POSIX
    record lock on `path`. Record locks belong to a process, so each process opens the file itself (a forked
    child reopens it on first use: the parent's descriptor, inherited, would not lock it out of anything)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = -1
        self._pid = -1
        self._threads = threading.Lock()

    def open(self) -> None:
        """Open the lock file in this process, if it has not yet (each process does so on first use)."""
        self._descriptor()

    def _descriptor(self) -> int:
        if self._pid != os.getpid():
            # Safe to close here: a new process holds no record lock yet, and closing drops only its own.
            if self._fd >= 0:
                os.close(self._fd)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        wait = -1 if timeout is None or not block else timeout
        if not self._threads.acquire(block, wait):
            return False
        try:
            if self._lock_file(block, timeout):
                return True
        except BaseException:
            self._threads.release()
            raise
        self._threads.release()
        return False

    def _lock_file(self, block: bool, timeout: float | None) -> bool:
        fd = self._descriptor()
        if block and timeout is None:
            fcntl.lockf(fd, fcntl.LOCK_EX)
            return True
        deadline = time.monotonic() + (timeout or 0.0)
        while True:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if not block or time.monotonic() >= deadline:
                    return False
                time.sleep(0.005)

    def release(self) -> None:
        fcntl.lockf(self._descriptor(), fcntl.LOCK_UN)
        self._threads.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()


class DeathSafePool(BlockingPool):
    """billiard's threaded pool with the two locks pool processes take (reading a job, writing a result) made
    `DeathSafeLock`s. The lock files live in a private temporary folder, removed with the pool."""

    def _setup_queues(self) -> None:
        super()._setup_queues()  # type: ignore[misc]  # billiard's own method, absent from its type stubs
        self._lock_dir = Path(tempfile.mkdtemp(prefix="dataperf-pool-"))
        jobs, results = getattr(self, "_inqueue"), getattr(self, "_outqueue")  # noqa: B009 - not in the stubs
        jobs._rlock = DeathSafeLock(self._lock_dir / "jobs.lock")
        results._wlock = DeathSafeLock(self._lock_dir / "results.lock")
        # Opened now in this process: it takes the jobs lock at termination, after the files are gone.
        jobs._rlock.open()
        results._wlock.open()

    @staticmethod
    def _help_stuff_finish(inqueue: Any, task_handler: Any, _pool: Any) -> None:
        """billiard's, with a bound: it drains the jobs pipe under the jobs lock, which an idle pool process may
        hold while it waits for a job that never comes (one respawned after the stop sentinels were read).
        Without the lock it drains nothing; the pool processes are terminated right after."""
        if not inqueue._rlock.acquire(timeout=TERMINATE_LOCK_SECONDS):
            return
        while task_handler.is_alive() and inqueue._reader.poll():
            inqueue._reader.recv()
            time.sleep(0)

    def terminate(self) -> None:
        try:
            super().terminate()
        finally:
            self._remove_lock_files()

    def join(self) -> None:
        super().join()
        self._remove_lock_files()

    def _remove_lock_files(self) -> None:
        for name in ("jobs.lock", "results.lock"):
            with contextlib.suppress(FileNotFoundError):
                (self._lock_dir / name).unlink()
        with contextlib.suppress(OSError):  # gone already, or a respawned child still creating its file
            self._lock_dir.rmdir()


class TaskPool(PreforkTaskPool):
    """Celery's prefork pool; on a broker without an event loop, `DeathSafePool` instead of billiard's."""

    BlockingPool: Any = DeathSafePool
