"""The sandbox tests run the real bubblewrap. Under CI a host without it fails the run; elsewhere they say so."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from apps.submissions.sandbox.runner import sandbox_self_test


@pytest.fixture(scope="session")
def sandbox_ready() -> None:
    with tempfile.TemporaryDirectory(prefix="sandbox-check-") as tmp:
        problem = sandbox_self_test(Path(tmp))
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the sandbox cannot run here: {problem} (run `make sandbox`)")
        pytest.skip(f"the sandbox cannot run here: {problem}; run `make sandbox` (needs root and apt-get)")
