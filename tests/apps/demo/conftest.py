"""The demo's bundles, written once per test run (writing one takes seconds; importing it, a fraction of that)."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.demo.bundle import demo_bundle_write

QUICK = ("budget-cleaning", "valuation")
"""Two benchmarks quick to score: the teams compete on them (a task each)."""


@pytest.fixture(scope="session")
def quick_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's bundle with only two benchmarks quick to score, on small data."""
    return demo_bundle_write(target=tmp_path_factory.mktemp("quick") / "demo.zip", benchmarks=QUICK, small=True)
