"""The numerical run-time: the OpenBLAS kernel pin and the fingerprint stored with scores."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from evaluators import runtime

REPO_ROOT = Path(__file__).resolve().parents[2]


def _fresh_python(code: str, env: dict[str, str]) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**env, "PYTHONPATH": str(REPO_ROOT)},
        timeout=60,
        check=True,
    )
    return completed.stdout.strip()


def test_importing_the_package_first_selects_the_reference_kernel() -> None:
    env = {key: value for key, value in os.environ.items() if key != "OPENBLAS_CORETYPE"}
    code = (
        "import os, evaluators; from evaluators.runtime import loaded_blas; "
        "print(os.environ.get('OPENBLAS_CORETYPE'), loaded_blas()[0]['architecture'])"
    )
    output = _fresh_python(code, env)
    if runtime.cpu_supports_reference_kernel():
        assert output == "Haswell Haswell"
    else:
        assert output.startswith("None ")


def test_an_explicit_kernel_choice_is_respected() -> None:
    env = {**os.environ, "OPENBLAS_CORETYPE": "Prescott"}
    assert _fresh_python("import evaluators, os; print(os.environ['OPENBLAS_CORETYPE'])", env) == "Prescott"


def test_the_pin_does_nothing_once_numpy_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    assert "numpy" in sys.modules
    assert runtime.pin_openblas_kernel() is False
    assert "OPENBLAS_CORETYPE" not in os.environ


def test_the_fingerprint_names_the_pinned_libraries_and_the_blas() -> None:
    fingerprint = runtime.environment_fingerprint()
    assert fingerprint["scikit-learn"] == "1.9.1"
    assert set(fingerprint) >= {"python", "numpy", "scipy", "pandas", "pyarrow", "blas"}
    assert "openblas" in fingerprint["blas"]
