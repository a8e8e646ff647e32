"""Run the platform's processes together (web, worker, beat) and stop them together.

Used by `make run`. Ctrl-C (or SIGTERM) stops all three; if one of them dies, the others are stopped too and
the exit code is non-zero.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = os.environ.get("PORT", "8000")

PROCESSES = {
    "web": [str(BIN / "gunicorn"), "dataperf_site.wsgi", "--bind", f"{HOST}:{PORT}", "--workers", "2",
            "--threads", "4", "--access-logfile", "-"],
    "worker": [str(BIN / "celery"), "-A", "dataperf_site", "worker", "-Q", "validate,evaluate,sandbox",
               "--concurrency", os.environ.get("WORKER_CONCURRENCY", "2"), "--loglevel", "INFO", "-n", "worker@%h"],
    "beat": [str(BIN / "celery"), "-A", "dataperf_site", "beat", "--loglevel", "INFO",
             "--schedule", str(ROOT / "var" / "celerybeat-schedule")],
}  # fmt: skip


def stop(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in children.values():
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            child.kill()


def main() -> int:
    (ROOT / "var").mkdir(exist_ok=True)
    children = {name: subprocess.Popen(cmd, cwd=ROOT) for name, cmd in PROCESSES.items()}
    print(f"DataPerf is running at http://{HOST}:{PORT}/ (web, worker and beat; Ctrl-C stops all)", flush=True)
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while not stopping:
        dead = [name for name, child in children.items() if child.poll() is not None]
        if dead:
            print(f"{', '.join(dead)} stopped unexpectedly; stopping the others", file=sys.stderr, flush=True)
            stop(children)
            return 1
        time.sleep(0.5)
    stop(children)
    return 0


if __name__ == "__main__":
    sys.exit(main())
