"""Child processes as the benchmarks and the end-to-end tests run them, and the Celery worker command line.

One module both import (bench may not import tests, and tests should not carry a copy of bench's helpers). Plain
standard library: it is imported before Django is set up.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

WORKER_QUEUES = ("validate", "evaluate", "sandbox", "long", "maintenance")
"""Every queue of the platform (settings.CELERY_TASK_QUEUES): what a worker that does everything consumes."""


def celery_worker_argv(name: str, *, queues: Sequence[str], concurrency: int, extra: Sequence[str] = ()) -> list[str]:
    """The command line of one Celery worker named `name@<host>` consuming `queues` with a pool of
    `concurrency` processes; `extra` is appended (e.g. `--without-mingle`)."""
    return [
        str(BIN / "celery"),
        "-A",
        "dataperf_site",
        "worker",
        "-Q",
        ",".join(queues),
        "--concurrency",
        str(concurrency),
        "--loglevel",
        "INFO",
        "-n",
        f"{name}@%h",
        *extra,
    ]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (the server that takes it binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, *, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until something accepts connections on 127.0.0.1:`port`; raise if `process` dies first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class Child:
    """A child process in its own process group (so that stopping it stops its workers too), started in the
    repository's root with `env`, its output in `<log_dir>/<name>.log`.

    `stop_timeout` is how long a warm shutdown may take before the group is killed."""

    def __init__(
        self, name: str, argv: list[str], *, env: dict[str, str], log_dir: Path, stop_timeout: float = 15
    ) -> None:
        self.name = name
        self.stop_timeout = stop_timeout
        self.log_path = log_dir / f"{name}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 60) -> None:
        """Return once the log holds `text`; raise RuntimeError (with the log's tail) if the process exits first
        or `timeout` seconds pass."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log()[-3000:]}")
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not log {text!r} within {timeout} s:\n{self.log()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole group: the parent and its children (a Celery pool mid-task), without warning."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM the group (a warm shutdown for Celery and gunicorn), SIGKILL it if it lingers; close the log."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()
