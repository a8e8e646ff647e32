"""Loaded by pytest before Django (`-p tests.pytest_env` in pyproject.toml): the test environment's defaults.

Only defaults: CI's DATABASE_URL and CELERY_BROKER_URL (PostgreSQL, Redis) pass through untouched. Worker
processes started by the end-to-end tests inherit this environment.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DEFAULTS = {
    "SECRET_KEY": "test-only-secret-key-not-for-production-0123456789",
    "DATAPERF_VAR_DIR": str(ROOT / "var" / "test"),
    "STATIC_MANIFEST": "0",
    "SECURE_COOKIES": "0",
    # Short leases so that the worker-kill test sees the reaper act within seconds.
    "EVALUATION_LEASE_SECONDS": "6",
    "REAPER_INTERVAL_SECONDS": "2",
    "QUEUED_RESEND_SECONDS": "30",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "EVALUATOR_EXTRA_PATHS": (
        "tests.e2e.slow_evaluator:SlowSpeechEvaluator,tests.plugins.toy_collective:ToyCollectiveEvaluator"
    ),
}
for key, value in DEFAULTS.items():
    os.environ.setdefault(key, value)


def _own_broker_database(url: str, index: int) -> str:
    """A Redis broker URL moved to a database of its own for the index-th xdist worker (15, then 14, ...)."""
    base, _, number = url.rpartition("/")
    if not url.startswith("redis://") or not number.isdigit():
        return url
    return f"{base}/{max(int(number) - 1 - index, 0)}"


# Under pytest-xdist (`make test` runs the tests that start no process on two workers), each worker process has
# its own var directory and broker database; pytest-django gives each its own test database.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if WORKER:
    os.environ["DATAPERF_VAR_DIR"] = str(Path(os.environ["DATAPERF_VAR_DIR"]) / WORKER)
    if "CELERY_BROKER_URL" in os.environ:
        index = int(WORKER.removeprefix("gw"))
        os.environ["CELERY_BROKER_URL"] = _own_broker_database(os.environ["CELERY_BROKER_URL"], index)
Path(os.environ["DATAPERF_VAR_DIR"]).mkdir(parents=True, exist_ok=True)
