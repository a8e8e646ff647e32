"""The supervisor of `make run` (scripts/supervise.py) restarts a child that exits unexpectedly, after a back-off
that grows while it keeps failing, logs why, and takes the child's own children with it. Tiny dummy commands
stand in for Celery: the supervisor knows nothing of what it runs."""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scripts.supervise import Supervised, describe_exit, supervise

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
QUITTER = [sys.executable, "-c", "raise SystemExit(3)"]


@pytest.fixture
def supervised() -> Iterator[Callable[..., Supervised]]:
    """Make Supervised children; every one still running at the end is stopped."""
    made: list[Supervised] = []

    def _make(argv: list[str], **options: object) -> Supervised:
        child = Supervised("dummy", argv, **options)  # type: ignore[arg-type]  # the options are Supervised's
        made.append(child)
        return child

    yield _make
    for child in made:
        child.terminate()
        child.wait(time.monotonic() + 5)


def _exited(child: Supervised) -> int:
    """Wait for the current process of `child` to exit; its return code."""
    assert child.popen is not None
    return child.popen.wait(timeout=10)


def _gone(pid: int) -> bool:
    """The process no longer runs (it is reaped, or a zombie whose parent has not reaped it yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state == "Z"


def test_it_restarts_a_killed_child_once_its_backoff_has_passed(
    supervised: Callable[..., Supervised], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dataperf.supervise")
    child = supervised(SLEEPER, restart=True, min_backoff=2.0)
    child.start(now=0.0)
    assert child.popen is not None
    first = child.popen.pid
    os.kill(first, signal.SIGKILL)
    _exited(child)

    assert child.poll(now=10.0)
    assert child.popen.pid == first  # down, waiting out its back-off
    assert child.poll(now=11.9)
    assert child.popen.pid == first
    assert child.poll(now=12.0)

    assert child.popen.pid != first
    assert child.popen.poll() is None  # the new one runs
    assert child.restarts == 1
    assert "dummy exited unexpectedly (signal SIGKILL) after 10.0 s; restarting it in 2.0 s" in caplog.text


def test_its_backoff_doubles_while_the_child_keeps_failing_and_resets_after_a_stable_run(
    supervised: Callable[..., Supervised],
) -> None:
    child = supervised(QUITTER, restart=True, min_backoff=1.0, max_backoff=4.0, stable_after=60.0)
    delays = []
    now = 0.0
    child.start(now=now)
    for _ in range(4):
        _exited(child)
        child.poll(now=now)
        assert child.restart_at is not None
        delays.append(child.restart_at - now)
        now = child.restart_at
        child.poll(now=now)  # restarted
    assert delays == [1.0, 2.0, 4.0, 4.0]

    _exited(child)
    child.poll(now=now + 60.0)  # it ran for a minute before failing: a fresh start
    assert child.restart_at == now + 60.0 + 1.0


def test_a_child_that_is_not_restarted_reports_its_exit_once(
    supervised: Callable[..., Supervised], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dataperf.supervise")
    child = supervised(QUITTER, restart=False)
    child.start()
    _exited(child)
    assert not child.poll()
    assert not child.poll()
    assert child.restarts == 0
    assert caplog.text.count("dummy exited unexpectedly (code 3)") == 1


def test_a_dead_childs_own_children_are_killed_before_the_restart(
    supervised: Callable[..., Supervised], tmp_path: Path
) -> None:
    """As a Celery worker's pool processes, left holding messages when the worker's main process dies."""
    pid_file = tmp_path / "grandchild.pid"
    parent = (
        "import pathlib, subprocess, sys, time;"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        f"pathlib.Path({str(pid_file)!r}).write_text(str(p.pid)); time.sleep(60)"
    )
    child = supervised([sys.executable, "-c", parent], restart=True, min_backoff=0.0)
    child.start()
    deadline = time.monotonic() + 20
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    grandchild = int(pid_file.read_text())
    assert child.popen is not None
    os.kill(child.popen.pid, signal.SIGKILL)  # the parent alone, as a crash would
    _exited(child)

    child.poll()

    deadline = time.monotonic() + 10
    while not _gone(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(grandchild)


def test_supervise_stops_everything_when_a_child_that_is_not_restarted_exits(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="dataperf.supervise")
    sleeper = Supervised("worker", SLEEPER, restart=True)
    web = Supervised("web", QUITTER, restart=False)

    code = supervise([sleeper, web], stopping=lambda: False, interval=0.05, grace=5)

    assert code == 1
    assert sleeper.popen is not None
    assert sleeper.popen.returncode == -signal.SIGTERM  # stopped, not killed, and not restarted
    assert sleeper.restarts == 0
    assert "web stopped; stopping the others" in caplog.text


def test_supervise_returns_zero_when_asked_to_stop() -> None:
    sleeper = Supervised("worker", SLEEPER, restart=True)
    rounds = iter(range(3))
    assert supervise([sleeper], stopping=lambda: next(rounds, 3) >= 2, interval=0.01, grace=5) == 0
    assert sleeper.popen is not None
    assert sleeper.popen.returncode is not None


@pytest.mark.parametrize(("code", "text"), [(3, "code 3"), (0, "code 0"), (-9, "signal SIGKILL"), (-200, "signal 200")])
def test_it_describes_an_exit(code: int, text: str) -> None:
    assert describe_exit(code) == text
