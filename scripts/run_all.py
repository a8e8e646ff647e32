"""Run the platform's processes together (web, worker, beat) and stop them together.

Used by `make run` (`python -m scripts.run_all`). Ctrl-C (or SIGTERM) stops all three. A worker or beat that
exits unexpectedly is restarted after a back-off (scripts/supervise.py), and a worker that stops proving that it
consumes (its heartbeat file, dataperf_site/liveness.py) is replaced, so the demo keeps evaluating; if the web
server dies, the others are stopped too and the exit code is non-zero.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path

from scripts.processes import BIN, ROOT, WORKER_QUEUES, celery_worker_argv
from scripts.supervise import Supervised, supervise

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = os.environ.get("PORT", "8000")

# The one demo worker consumes every queue, `maintenance` (beat's reaper) included.
PROCESSES = {
    "web": [
        str(BIN / "gunicorn"),
        "dataperf_site.wsgi",
        "--bind",
        f"{HOST}:{PORT}",
        "--workers",
        "2",
        "--threads",
        "4",
        "--access-logfile",
        "-",
    ],
    "worker": celery_worker_argv(
        "worker", queues=WORKER_QUEUES, concurrency=int(os.environ.get("WORKER_CONCURRENCY", "2"))
    ),
    # Its schedule file is settings.CELERY_BEAT_SCHEDULE_FILENAME, under DATAPERF_VAR_DIR.
    "beat": [str(BIN / "celery"), "-A", "dataperf_site", "beat", "--loglevel", "INFO"],
}
RESTARTED = {"worker", "beat"}
"""Restarted when they exit. The web server is not: gunicorn restarts its own workers, and its arbiter exits only
on a fault a restart would repeat (the port is taken, the settings are wrong)."""


WORKERS = {"worker"}
"""Watched for stalls through a heartbeat file."""
STALL_SECONDS = int(os.environ.get("WORKER_STALL_SECONDS", "30"))
"""The worker's own bound (settings.WORKER_STALL_SECONDS), plus its heartbeat period, is the supervisor's."""
HEARTBEAT_SECONDS = int(os.environ.get("WORKER_HEARTBEAT_SECONDS", "5"))
SHUTDOWN_SECONDS = int(os.environ.get("WORKER_SHUTDOWN_SECONDS", "20"))


def supervised(name: str, argv: list[str], heartbeats: Path) -> Supervised:
    if name not in WORKERS:
        return Supervised(name, argv, restart=name in RESTARTED, cwd=ROOT)
    return Supervised(
        name,
        argv,
        restart=True,
        cwd=ROOT,
        heartbeat=heartbeats / f"{name}.json",
        stall_after=STALL_SECONDS + 2 * HEARTBEAT_SECONDS,
        # The worker turns a warm shutdown cold itself after SHUTDOWN_SECONDS; a few more for the cold one.
        stop_timeout=SHUTDOWN_SECONDS + 10,
    )


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    var = Path(os.environ.get("DATAPERF_VAR_DIR", ROOT / "var"))
    (var / "heartbeats").mkdir(parents=True, exist_ok=True)
    children = [supervised(name, argv, var / "heartbeats") for name, argv in PROCESSES.items()]
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    print(f"DataPerf is running at http://{HOST}:{PORT}/ (web, worker and beat; Ctrl-C stops all)", flush=True)
    return supervise(children, stopping=lambda: stopping)


if __name__ == "__main__":
    sys.exit(main())
