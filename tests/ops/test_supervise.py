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


# --- Stalls: a child that stops proving that it consumes is replaced ------------------------------------------

BEATER = [
    sys.executable,
    "-c",
    "import os, sys, time\n"
    "from pathlib import Path\n"
    "from dataperf_site.liveness import write_heartbeat_file\n"
    "path, consuming_for, began = Path(os.environ['DATAPERF_HEARTBEAT_FILE']), float(sys.argv[1]), time.time()\n"
    "while True:\n"
    "    consuming = time.time() - began < consuming_for\n"
    "    at = time.time() if consuming else began + consuming_for\n"
    "    write_heartbeat_file(path, reason=None if consuming else 'stuck in a test', consuming_at=at)\n"
    "    time.sleep(0.1)\n",
]
"""A stand-in worker that beats as dataperf_site.liveness does, consuming for argv[1] seconds, then not."""


def _beater(
    supervised: Callable[..., Supervised], tmp_path: Path, consuming_for: float, **options: object
) -> Supervised:
    root = Path(__file__).resolve().parents[2]
    defaults: dict[str, object] = {"restart": True, "min_backoff": 0.0, "stall_after": 1.0, "stop_timeout": 5.0}
    return supervised(
        [*BEATER, str(consuming_for)], cwd=root, heartbeat=tmp_path / "beat.json", **{**defaults, **options}
    )


def _replaced(child: Supervised, first: int, timeout: float = 15.0) -> float:
    """Poll `child` until its process is a new one; the seconds it took."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        child.poll()
        assert child.popen is not None
        if child.popen.pid != first:
            return time.monotonic() - began
        time.sleep(0.05)
    raise AssertionError(f"the child was not replaced within {timeout} s")


def _beating(child: Supervised, timeout: float = 20.0) -> None:
    assert child.heartbeat is not None
    deadline = time.monotonic() + timeout
    while not child.heartbeat.exists():
        assert time.monotonic() < deadline, "the child wrote no heartbeat"
        time.sleep(0.05)


def test_a_child_that_beats_and_consumes_is_left_alone(supervised: Callable[..., Supervised], tmp_path: Path) -> None:
    child = _beater(supervised, tmp_path, consuming_for=60)
    child.start()
    _beating(child)
    first = child.popen.pid if child.popen else 0
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline:
        assert child.poll()
        time.sleep(0.05)
    assert child.popen is not None and child.popen.pid == first and child.restarts == 0


def test_a_child_that_beats_but_stops_consuming_is_replaced_with_its_reason(
    supervised: Callable[..., Supervised], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dataperf.supervise")
    child = _beater(supervised, tmp_path, consuming_for=0.5)
    child.start()
    _beating(child)
    assert child.popen is not None
    first = child.popen.pid
    _replaced(child, first)
    assert child.restarts == 1
    assert "dummy stalled (not consuming for " in caplog.text
    assert ": stuck in a test); replacing it (SIGTERM, then SIGKILL after 5 s)" in caplog.text
    assert "dummy exited unexpectedly (signal SIGTERM)" in caplog.text


def test_a_stopped_child_is_woken_stopped_and_replaced(
    supervised: Callable[..., Supervised], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """SIGSTOP: it writes nothing more; the SIGTERM is heard once the SIGCONT that follows it wakes it."""
    caplog.set_level(logging.INFO, logger="dataperf.supervise")
    child = _beater(supervised, tmp_path, consuming_for=60)
    child.start()
    _beating(child)
    assert child.popen is not None
    first = child.popen.pid
    os.kill(first, signal.SIGSTOP)
    took = _replaced(child, first)
    assert took < 1.0 + 3.0  # stall_after, plus the polls and the exit
    assert "dummy stalled (no heartbeat for " in caplog.text
    assert "s (the process is stopped or hung)); replacing it" in caplog.text
    assert "dummy exited unexpectedly (signal SIGTERM)" in caplog.text


def test_a_stalled_child_that_ignores_the_sigterm_is_killed_after_the_stop_timeout(
    supervised: Callable[..., Supervised], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dataperf.supervise")
    deaf = [*BEATER[:2], "import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN)\n" + BEATER[2]]
    child = supervised(
        [*deaf, "0.5"],
        cwd=Path(__file__).resolve().parents[2],
        restart=True,
        min_backoff=0.0,
        heartbeat=tmp_path / "beat.json",
        stall_after=1.0,
        stop_timeout=1.0,
    )
    child.start()
    _beating(child)
    assert child.popen is not None
    _replaced(child, child.popen.pid)
    assert "dummy did not stop within 1 s; killing it" in caplog.text
    assert "dummy exited unexpectedly (signal SIGKILL)" in caplog.text


def test_a_child_that_never_beats_is_replaced_after_the_start_timeout(
    supervised: Callable[..., Supervised], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dataperf.supervise")
    child = supervised(SLEEPER, restart=True, min_backoff=0.0, heartbeat=tmp_path / "beat.json", start_timeout=1.0)
    child.start()
    assert child.popen is not None
    _replaced(child, child.popen.pid)
    assert "dummy stalled (no heartbeat within 1 s of its start); replacing it" in caplog.text


def test_a_heartbeat_left_by_the_previous_child_does_not_vouch_for_the_next(
    supervised: Callable[..., Supervised], tmp_path: Path
) -> None:
    beat = tmp_path / "beat.json"
    beat.write_text('{"at": 1e12, "consuming_at": 1e12, "reason": null}')
    child = supervised(SLEEPER, restart=True, heartbeat=beat, start_timeout=1.0)
    child.start()
    assert not beat.exists()
    assert child.stall(wall=child.started_wall + 2.0) == "no heartbeat within 1 s of its start"
