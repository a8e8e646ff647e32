"""What every benchmark shares: the machine's description, timing and percentile helpers, goals that are
reported (never enforced), child processes (from `scripts.processes`), and the result file
`bench/results/<name>.json`."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# The process helpers are shared with the end-to-end tests (which bench may not import): re-exported here for
# the benchmarks that import them from this module.
from scripts.processes import ROOT as ROOT
from scripts.processes import Child as Child
from scripts.processes import free_port as free_port
from scripts.processes import wait_for_port as wait_for_port

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
