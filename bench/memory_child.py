"""The measured process of the memory benchmark: loads a task, checks, validates or scores one submission, as
a worker does, then prints its memory figures as JSON on stdout.

    python -m bench.memory_child {check,validate,score} TASK_DIR SUBMISSION

`check` is the platform's validation step (`Evaluator.check`: the verdict, no parsed form kept); `validate`
parses and keeps the parsed form, as the evaluation step does before scoring; `score` validates and evaluates.

Peak memory is read twice: `resource.getrusage(RUSAGE_SELF).ru_maxrss` and the kernel's VmHWM. The first
carries over the parent's peak when a large process starts us directly (Linux keeps it across exec), so
`bench.memory` starts this through `sh`, which forks; the two then agree.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from evaluators import get_evaluator
from evaluators.taskdir import load_task_dir

KIB = 1024


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _rss_bytes() -> int:
    return _status_kib("VmRSS") * KIB


def _split_rss() -> dict[str, int]:
    """Private memory (anonymous) and mapped files (page cache, shared and reclaimable) in the RSS now."""
    return {"rss_anon": _status_kib("RssAnon") * KIB, "rss_file": _status_kib("RssFile") * KIB}


def main(argv: list[str]) -> int:
    mode, task_dir, submission = argv[0], Path(argv[1]), Path(argv[2])
    loaded = load_task_dir(task_dir)
    evaluator = get_evaluator(loaded.slug)
    figures: dict[str, object] = {"rss_after_imports": _rss_bytes()}
    started = time.perf_counter()
    task = evaluator.load_task(task_dir, evaluator.validate_config(loaded.config))
    figures.update(load_seconds=time.perf_counter() - started, rss_after_load=_rss_bytes())
    started = time.perf_counter()
    parsed = None
    if mode == "check":
        evaluator.check(task, submission)
    else:
        # Kept alive until the figures are read, as the evaluation step keeps it to score.
        parsed = evaluator.validate(task, submission)
    figures.update(validate_seconds=time.perf_counter() - started, rss_after_validate=_rss_bytes())
    if mode == "score":
        started = time.perf_counter()
        figures["primary"] = evaluator.evaluate(task, parsed).primary
        figures.update(evaluate_seconds=time.perf_counter() - started, rss_after_evaluate=_rss_bytes())
    figures["at_end"] = _split_rss()
    figures["ru_maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * KIB  # KiB on Linux
    figures["vm_hwm"] = _status_kib("VmHWM") * KIB
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
