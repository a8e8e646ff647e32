"""Every reference case (public copy and, where present, the shared set) through the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from evaluators.cli import main
from evaluators.runtime import blas_problems

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEECH_CASE = REPO_ROOT / "tests" / "fixtures" / "reference_cases" / "selection-speech" / "en_25"


def _assert_matches(output: dict[str, Any], expectation: dict[str, Any]) -> None:
    tolerance = expectation["tolerance"]
    assert abs(output["primary"] - expectation["primary"]) <= tolerance, output["primary"]
    for name, expected in expectation.get("metrics", {}).items():
        actual = output["metrics"][name]
        if isinstance(expected, int) and not isinstance(expected, bool):
            assert actual == expected, name
        else:
            assert abs(actual - expected) <= tolerance, (name, actual, expected)


def test_the_process_uses_the_blas_kernel_of_the_reference() -> None:
    assert blas_problems() == []


def test_the_cli_reproduces_the_reference_expectation(
    reference_submission: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    case_dir: Path = reference_submission.case_dir
    argv = [
        "score",
        "--task",
        str(case_dir / "task"),
        "--submission",
        str(case_dir / "submissions" / reference_submission.name),
    ]
    code = main(argv)
    captured = capsys.readouterr()
    expectation = reference_submission.expectation
    if expectation.get("rejected"):
        assert code == 2
        assert captured.err.startswith("invalid submission: ")
        assert len(captured.err.strip()) > len("invalid submission: ")
        assert captured.out == ""
    else:
        assert code == 0, captured.err
        _assert_matches(json.loads(captured.out), expectation)


def test_the_module_entry_point_scores_a_reference_submission() -> None:
    expectation = json.loads((SPEECH_CASE / "expected.json").read_text())["A_en_25_balanced.json"]
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "evaluators",
            "score",
            "--task",
            str(SPEECH_CASE / "task"),
            "--submission",
            str(SPEECH_CASE / "submissions" / "A_en_25_balanced.json"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert len(lines) == 1
    output = json.loads(lines[0])
    assert set(output) == {"primary", "metrics"}
    _assert_matches(output, expectation)
