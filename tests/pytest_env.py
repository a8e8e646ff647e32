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
Path(os.environ["DATAPERF_VAR_DIR"]).mkdir(parents=True, exist_ok=True)
