"""What every benchmark shares: the machine's description, timing and percentile helpers, goals that are
reported (never enforced), child processes, and the result file `bench/results/<name>.json`."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "bench" / "results"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def machine() -> dict[str, Any]:
    """The machine the figures were measured on (they mean little without it)."""
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_bytes": _ram_bytes(),
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


@dataclass
class Goal:
    """A target a figure is compared with. A missed goal is reported, never turned into a failed run."""

    name: str
    target: str
    value: float | None
    met: bool | None
    """None when the figure could not be measured here (a tool is missing); the notes say why."""


@dataclass
class Result:
    """The outcome of one benchmark: its figures, its goals and what a reader should know about them."""

    benchmark: str
    quick: bool
    figures: dict[str, Any] = field(default_factory=dict)
    goals: list[Goal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    def goal(self, name: str, target: str, value: float | None, met: bool | None) -> None:
        self.goals.append(Goal(name, target, value, met))
        verdict = {True: "met", False: "NOT met", None: "not measured"}[met]
        shown = "n/a" if value is None else f"{value:.4g}"
        print(f"  goal {name} {target}: {shown} -> {verdict}")

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  note: {text}")


def write_result(result: Result, *, started: float, results_dir: Path) -> Path:
    """Write `<results_dir>/<benchmark>.json` with the machine and the run's duration; return its path."""
    results_dir.mkdir(parents=True, exist_ok=True)
    body = {
        "benchmark": result.benchmark,
        "quick": result.quick,
        "machine": machine(),
        "duration_seconds": round(time.perf_counter() - started, 1),
        "settings": result.settings,
        "figures": result.figures,
        "goals": [asdict(goal) for goal in result.goals],
        "notes": result.notes,
    }
    path = results_dir / f"{result.benchmark}.json"
    path.write_text(json.dumps(body, indent=2, sort_keys=False, default=str) + "\n")
    return path


def best_of(repeats: int, work: Callable[[], object]) -> float:
    """The shortest of `repeats` timings of `work`, in seconds (the least disturbed by other processes)."""
    times = []
    for _ in range(max(repeats, 1)):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (`fraction` in 0..1) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


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
    """A child process in its own process group (so that stopping it stops its workers too), logging to a file."""

    def __init__(self, name: str, argv: list[str], *, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log()[-3000:]}")
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not log {text!r} within {timeout} s:\n{self.log()[-3000:]}")

    def stop(self) -> None:
        """SIGTERM the group (a warm shutdown for Celery and gunicorn), SIGKILL it if it lingers."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
        self._log.close()
