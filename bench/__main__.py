"""Benchmarks of the platform, each printing its figures and, for speed, a ratio against a baseline measured in
the same invocation; each writes bench/results/<name>.json (with the machine it ran on).

`make bench` (`python -m bench`) runs them all; `python -m bench leaderboard` one of them; `--quick` the small
version (the smoke test runs the quick pure-Python ones):

- `leaderboard` (bench/leaderboard_reads.py): reads of a 10,000-submission leaderboard through gunicorn against
  nginx serving the same bytes, with wrk (goal: ratio >= 0.3, p99 < 50 ms);
- `submit` (bench/submit_to_ranked.py): from an upload's answer to its row on the leaderboard with real Celery
  workers, and the throughput of 2 workers against 1 (goal: p50 < 1 s, >= 1.8x);
- `evaluators` (bench/evaluators.py): each evaluator's whole evaluation against the bare fixed-model work it
  must do (goal <= 1.2x), and the debugging evaluator against the reference schedule (goal >= 20x);
- `memory` (bench/memory.py): peak memory scoring a 200,000 x 1024 float32 selection pool (goal <= 1.5x its
  size on disk) and validating 100 MB uploads (goal < 200 MB).

Goals are reported, never enforced: a missed goal does not fail the run. A benchmark that crashes does.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from bench import stack
from bench.common import RESULTS_DIR, Result, write_result


@dataclass(frozen=True)
class Benchmark:
    module: str
    uses_django: bool
    """Django is set up (on the benchmark's own database) before the module is imported: it imports models."""


BENCHMARKS = {
    "evaluators": Benchmark("bench.evaluators", uses_django=False),
    "memory": Benchmark("bench.memory", uses_django=False),
    "leaderboard": Benchmark("bench.leaderboard_reads", uses_django=True),
    "submit": Benchmark("bench.submit_to_ranked", uses_django=True),
}
ALIASES = {"leaderboard_reads": "leaderboard", "submit_to_ranked": "submit"}


def _runner(benchmark: Benchmark) -> Callable[..., Result]:
    if benchmark.uses_django:
        stack.setup_django()
    # By name, after the set-up: like an evaluator registry, not to dodge an import cycle.
    module = importlib.import_module(benchmark.module)
    return cast(Callable[..., Result], module.run)


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    names = [*BENCHMARKS, *ALIASES]
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"benchmarks to run ({', '.join(BENCHMARKS)}); all by default"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: seconds instead of minutes")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where to write <name>.json")
    arguments = parser.parse_args(argv)
    unknown = [name for name in arguments.names if name not in names]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    return arguments


def main(argv: list[str] | None = None) -> int:
    arguments = _arguments(sys.argv[1:] if argv is None else argv)
    chosen = [ALIASES.get(name, name) for name in arguments.names] or list(BENCHMARKS)
    summary: list[str] = []
    for name in dict.fromkeys(chosen):
        started = time.perf_counter()
        result = _runner(BENCHMARKS[name])(quick=arguments.quick)
        path = write_result(result, started=started, results_dir=arguments.results_dir)
        print(f"  -> {path}\n")
        for goal in result.goals:
            verdict = {True: "met", False: "NOT MET", None: "not measured"}[goal.met]
            shown = "n/a" if goal.value is None else f"{goal.value:.4g}"
            summary.append(f"{name:12} {goal.name} {goal.target}: {shown} ({verdict})")
    print("Goals (reported, not enforced):")
    print("\n".join(f"  {line}" for line in summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
