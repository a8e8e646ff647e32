"""The quick modes of the pure-Python benchmarks run end to end (`python -m bench NAME --quick`) and write result
files of the documented shape. No timing or memory figure is asserted: they depend on the machine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from evaluators import available_slugs, get_evaluator

ROOT = Path(__file__).resolve().parents[2]
RESULT_KEYS = {"benchmark", "quick", "machine", "duration_seconds", "settings", "figures", "goals", "notes"}
MACHINE_KEYS = {"cpu_model", "cores", "ram_bytes", "kernel", "python", "date"}
GOAL_KEYS = {"name", "target", "value", "met"}


def _run_quick(name: str, results: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench", name, "--quick", "--results-dir", str(results)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Goals (reported, not enforced):" in done.stdout
    body: dict[str, Any] = json.loads((results / f"{name}.json").read_text())
    assert set(body) == RESULT_KEYS
    assert set(body["machine"]) == MACHINE_KEYS
    assert body["benchmark"] == name
    assert body["quick"] is True
    assert all(set(goal) == GOAL_KEYS for goal in body["goals"])
    return body


def test_the_quick_evaluators_benchmark_measures_every_evaluator_with_a_demo(tmp_path: Path) -> None:
    body = _run_quick("evaluators", tmp_path)

    measured = body["figures"]["evaluators"]
    with_demo = {slug for slug in available_slugs() if get_evaluator(slug).demo_module}
    assert {case.split("/")[0] for case in measured} == with_demo
    for figures in measured.values():
        assert figures["whole_ms"] > 0
        # Either a ratio against the bare model work, or the reason there is none: never both, never neither.
        assert ("ratio" in figures) != ("not_separable" in figures)
        if "ratio" in figures:
            assert figures["bare_ms"] > 0
    assert {goal["name"].split(" ")[0] for goal in body["goals"]} == {
        case.split("/")[0] for case, figures in measured.items() if "ratio" in figures
    }


@pytest.mark.parametrize("run_name", ["in_memory", "cache_first_process", "cache_mapped"])
def test_a_pool_run_has_its_peak_from_both_counters(run_name: str, memory_result: dict[str, Any]) -> None:
    run = memory_result["figures"]["pool"]["runs"][run_name]
    assert run["peak"] == max(run["ru_maxrss"], run["vm_hwm"])
    assert run["rss_after_imports"] <= run["peak"]
    assert 0 <= run["primary"] <= 1


def test_the_quick_memory_benchmark_validates_each_large_upload(memory_result: dict[str, Any]) -> None:
    uploads = memory_result["figures"]["uploads"]
    assert set(uploads) == {"slice-discovery CSV", "slice-discovery parquet", "selection-vision directory"}
    for figures in uploads.values():
        assert figures["upload_bytes"] > 1_000_000
        assert figures["peak"] >= figures["rss_after_load"]
    assert memory_result["figures"]["pool"]["bytes_on_disk"] > 0


@pytest.fixture(scope="module")
def memory_result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _run_quick("memory", tmp_path_factory.mktemp("bench-memory"))
