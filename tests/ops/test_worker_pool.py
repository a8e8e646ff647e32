"""The workers' pool locks (dataperf_site/worker_pool.py): a process that dies holding a `DeathSafeLock` releases
it (billiard's own lock stayed taken forever, and the worker evaluated nothing more: issue 21)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dataperf_site.worker_pool import DeathSafeLock


def _holder(lock: DeathSafeLock) -> int:
    """A forked process that takes `lock` and then sleeps until killed; returns once it holds it."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(read)
            lock.acquire()
            os.write(write, b"1")
            time.sleep(60)
        finally:
            os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"1", "the child did not take the lock"
    os.close(read)
    return pid


@pytest.fixture
def lock(tmp_path: Path) -> Iterator[DeathSafeLock]:
    lock = DeathSafeLock(tmp_path / "jobs.lock")
    lock.open()
    yield lock


@pytest.fixture
def held(lock: DeathSafeLock) -> Iterator[int]:
    """The pid of a child holding `lock`; killed (if still alive) and reaped at the end."""
    pid = _holder(lock)
    yield pid
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    os.waitpid(pid, 0)


def test_a_process_that_dies_holding_the_lock_releases_it(lock: DeathSafeLock, held: int) -> None:
    assert not lock.acquire(block=False)
    os.kill(held, signal.SIGKILL)
    os.waitpid(held, 0)
    assert lock.acquire(timeout=2.0)
    lock.release()


def test_an_acquire_with_a_timeout_gives_up_after_it(lock: DeathSafeLock, held: int) -> None:
    began = time.monotonic()
    assert not lock.acquire(timeout=0.3)
    assert 0.3 <= time.monotonic() - began < 2.0


def test_a_failed_acquire_leaves_the_lock_usable_by_the_threads_of_its_process(lock: DeathSafeLock, held: int) -> None:
    """The in-process lock taken before the file lock is given back when the file lock is not had."""
    assert not lock.acquire(block=False)
    os.kill(held, signal.SIGKILL)
    os.waitpid(held, 0)
    assert lock.acquire(block=False)
    lock.release()


def test_it_excludes_the_threads_of_one_process(lock: DeathSafeLock) -> None:
    """POSIX record locks do not exclude each other within a process: the thread lock does."""
    got: list[bool] = []
    with lock:
        other = threading.Thread(target=lambda: got.append(lock.acquire(timeout=0.2)))
        other.start()
        other.join()
    assert got == [False]
    assert lock.acquire(block=False)
    lock.release()


def test_a_free_lock_is_taken_at_once_without_blocking(lock: DeathSafeLock) -> None:
    assert lock.acquire(block=False)
    lock.release()
    with lock as taken:
        assert taken
