"""The platform as the benchmarks run it: a dedicated PostgreSQL database, a Redis database of its own for the
broker, gunicorn, Celery workers, all real processes started here, and Django set up in this process to
write the rows they read.

Nothing here touches the databases other people use: the benchmark database (`dataperf_bench` unless
`BENCH_DATABASE_URL` names another) is dropped and recreated by each benchmark, the broker is Redis database
11 (`BENCH_BROKER_URL`), and files go under var/bench/.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import django
import psycopg2  # type: ignore[import-untyped]  # no stubs; two statements of administration
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connections

from dataperf_site.celery import app as celery_app
from scripts.processes import ROOT, WORKER_QUEUES, Child, celery_worker_argv, free_port, wait_for_port

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dataperf_bench")
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/11")
VAR_DIR = ROOT / "var" / "bench"
BIN = Path(sys.executable).parent
TRIVIAL_EVALUATOR = "bench.trivial_evaluator:TrivialEvaluator"

ENVIRONMENT = {
    "DATABASE_URL": DATABASE_URL,
    "CELERY_BROKER_URL": BROKER_URL,
    "DATAPERF_VAR_DIR": str(VAR_DIR),
    "MEDIA_ROOT": str(VAR_DIR / "media"),
    "TASK_DATA_ROOT": str(VAR_DIR / "taskdata"),
    "SECRET_KEY": "benchmark-only-secret-key-0123456789-not-for-production",
    "DEBUG": "0",
    "STATIC_MANIFEST": "0",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "EVALUATOR_EXTRA_PATHS": TRIVIAL_EVALUATOR,
    # wrk from one address would hit the anonymous API limit within a second; the benchmark measures serving.
    # Per second: DRF keeps the time of every request within the period in the cache, read and written back
    # on each request; an hour of wrk's requests would make that list the bottleneck, where a production rate
    # (1,000/hour: at most 1,000 entries) keeps it about as long as a second of wrk's.
    "API_THROTTLE_ANON": "100000000/second",
    "API_THROTTLE_USER": "100000000/second",
    "PYTHONPATH": str(ROOT),
    "DJANGO_SETTINGS_MODULE": "dataperf_site.settings",
}


def child_environment(**extra: str) -> dict[str, str]:
    """The environment of every process of the benchmark's platform (this one's, with the benchmark's values)."""
    return {**os.environ, **ENVIRONMENT, **extra}


def _admin_connection() -> tuple[Any, str]:
    url = urlparse(DATABASE_URL)
    name = url.path.lstrip("/")
    connection = psycopg2.connect(
        dbname="postgres",
        user=url.username or "postgres",
        password=url.password or None,
        host=url.hostname or "127.0.0.1",
        port=url.port or 5432,
    )
    connection.autocommit = True
    return connection, name


def recreate_database() -> None:
    """Drop (ending its sessions) and recreate the benchmark database, and empty var/bench/."""
    connections.close_all()
    connection, name = _admin_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()
    shutil.rmtree(VAR_DIR, ignore_errors=True)
    VAR_DIR.mkdir(parents=True, exist_ok=True)


def setup_django() -> None:
    """Point this process at the benchmark's platform and set Django up (once; later calls do nothing)."""
    if apps.ready:
        if settings.DATABASES["default"]["NAME"] != urlparse(DATABASE_URL).path.lstrip("/"):
            raise RuntimeError("Django is already set up on another database; run the benchmark in its own process")
        return
    os.environ.update(ENVIRONMENT)
    django.setup()


def migrate() -> None:
    call_command("migrate", verbosity=0, interactive=False)


def purge_broker() -> None:
    """Drop messages an interrupted earlier run left in the benchmark's broker database."""
    celery_app.control.purge()


def start_gunicorn(log_dir: Path, *, workers: int, threads: int) -> tuple[Child, int]:
    """gunicorn serving the platform on a free port of 127.0.0.1 (access log off, as in production behind a
    proxy that logs)."""
    port = free_port()
    argv = [
        str(BIN / "gunicorn"),
        "dataperf_site.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--backlog",
        "2048",
        "--log-level",
        "warning",
    ]
    server = Child("gunicorn", argv, env=child_environment(), log_dir=log_dir)
    wait_for_port(port, timeout=60, process=server.popen)
    return server, port


def worker_argv(name: str) -> list[str]:
    """The command line of one benchmark worker: a pool of one, on every queue (as each worker the platform
    starts), without the cluster chatter (gossip, mingle, heartbeats) that one host does not need."""
    extra = ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    return celery_worker_argv(name, queues=WORKER_QUEUES, concurrency=1, extra=extra)


def start_worker(log_dir: Path, name: str) -> Child:
    """One Celery worker process (`worker_argv`), starting: wait for its log's "ready." before counting on it."""
    return Child(name, worker_argv(name), env=child_environment(), log_dir=log_dir)
