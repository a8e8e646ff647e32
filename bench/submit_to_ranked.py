"""From an upload to its row on the leaderboard, with real processes: gunicorn (the API), Redis (the broker),
PostgreSQL and Celery workers, on a task scored by an evaluator that does no work (`bench.trivial_evaluator`),
so that what is measured is the platform's own pipeline.

1. Latency: submissions are uploaded one at a time through the API (`dataperf_cli`'s client, as
   `dataperf submit` does: small artifacts are validated before the answer, then queued); the clock starts
   when the upload's answer arrives and stops when the task's leaderboard JSON (polled every 20 ms with
   If-None-Match, as the live page polls) shows the submission's row. With 1 worker, then with 2.
2. Throughput: with no worker running, a burst of submissions is uploaded (they wait in the queue); then 1
   (or 2) workers start, and the rate is the number of submissions scored and ranked after the last worker
   was ready, over the time from then to the last one (the database's timestamps): worker start-up is left out.
   Four bursts, with 1, 2, 2 and 1 workers; each count's rate is the mean of its two.

Goals: p50 < 1 s; 2 workers >= 1.8x the throughput of 1. Each worker is one process with a pool of one.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Max
from django.utils import timezone

from apps.accounts.services import api_token_create, user_sign_up
from apps.challenges.models import Challenge, Task
from apps.challenges.services import participation_register
from apps.divisions.models import Division
from apps.submissions.models import Submission
from bench import stack
from bench.common import Child, Result, percentile
from bench.trivial_evaluator import TrivialEvaluator
from dataperf_cli.client import ApiClient
from dataperf_cli.config import Config

NAME = "submit_to_ranked"
CHALLENGE = "bench-submit"
TASK = "echo"
TEAMS = 4
POLL_SECONDS = 0.02
RUN_ORDER = (1, 2, 2, 1)
P50_GOAL_SECONDS = 1.0
SCALING_GOAL = 1.8


@dataclass(frozen=True)
class Size:
    latency_samples: int
    burst: int


FULL = Size(latency_samples=40, burst=200)
QUICK = Size(latency_samples=8, burst=30)


@dataclass
class Platform:
    """The running platform: its address, the teams' API clients and where the processes log."""

    port: int
    clients: list[ApiClient]
    log_dir: Path
    artifact_dir: Path
    sent: int = 0

    def submit(self) -> tuple[int, float]:
        """Upload one submission (team by team in turn, each scoring higher than any before, so that it becomes
        its team's row); return its id and the upload's duration. Raises unless it was accepted and validated."""
        self.sent += 1
        artifact = self.artifact_dir / f"{self.sent}.json"
        artifact.write_text(json.dumps({"value": self.sent}))
        client = self.clients[self.sent % len(self.clients)]
        started = time.perf_counter()
        status, body = client.upload(
            f"challenges/{CHALLENGE}/tasks/{TASK}/submissions/",
            {"method_description": "benchmark"},
            {"artifact": artifact},
            lambda done, total: None,
        )
        elapsed = time.perf_counter() - started
        # Validated and queued: an idle worker may have claimed (even scored) it before the answer was written.
        if status != 201 or body.get("status") not in {"queued", "running", "scored"}:
            raise RuntimeError(f"the upload was answered {status}: {body}")
        return int(body["id"]), elapsed


# --- the set-up ------------------------------------------------------------------------------------------


def _task() -> tuple[Challenge, Task]:
    now = timezone.now()
    challenge = Challenge.objects.create(
        slug=CHALLENGE,
        title="Benchmark: submit to ranked",
        visibility=Challenge.Visibility.PUBLIC,
        starts_at=now - dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=30),
    )
    Division.objects.create(challenge=challenge, slug="open", kind=Division.Kind.OPEN, name="Open")
    task = Task.objects.create(
        challenge=challenge,
        slug=TASK,
        title="Echo",
        evaluator_slug=TrivialEvaluator.slug,
        ml_task=Task.MLTask.TABULAR,
        config={},
    )
    return challenge, task


def _clients(challenge: Challenge, port: int) -> list[ApiClient]:
    """One registered team per client, each with an API token (no quota: the task sets none)."""
    clients = []
    for index in range(TEAMS):
        name = f"bench-submitter-{index}"
        user = user_sign_up(username=name, email=f"{name}@example.org", password=secrets.token_urlsafe(16))
        assert isinstance(user, User)
        participation_register(challenge=challenge, user=user, accept_rules=True)
        _, key = api_token_create(user=user, name="benchmark")
        clients.append(ApiClient(Config(url=f"http://127.0.0.1:{port}", token=key), timeout=60))
    return clients


# --- measuring -------------------------------------------------------------------------------------------


class BoardPoller:
    """Polls the task's leaderboard JSON over one kept-alive connection, with If-None-Match as the page does."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.path = f"/challenges/{CHALLENGE}/tasks/{TASK}/leaderboard.json"
        self.etag = ""
        self.submission_ids: set[int] = set()
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def _get(self) -> http.client.HTTPResponse:
        headers = {"If-None-Match": self.etag} if self.etag else {}
        try:
            self._connection.request("GET", self.path, headers=headers)
            return self._connection.getresponse()
        except (http.client.HTTPException, ConnectionError):
            # gunicorn closes an idle kept-alive connection after 2 s: open another.
            self._connection.close()
            self._connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self._connection.request("GET", self.path, headers=headers)
            return self._connection.getresponse()

    def shows(self, submission_id: int) -> bool:
        response = self._get()
        body = response.read()
        if response.status == 200:
            self.etag = response.getheader("ETag") or ""
            rows = json.loads(body)["rows"]
            self.submission_ids = {row["submission_id"] for row in rows}
        elif response.status != 304:
            raise RuntimeError(f"the leaderboard answered {response.status}")
        return submission_id in self.submission_ids

    def close(self) -> None:
        self._connection.close()


def latencies(platform: Platform, samples: int) -> tuple[list[float], list[float]]:
    """(upload-answer-to-ranked seconds, upload seconds) of `samples` submissions, one at a time."""
    poller = BoardPoller(platform.port)
    ranked, uploads = [], []
    try:
        for _ in range(samples):
            submission_id, upload = platform.submit()
            answered = time.perf_counter()
            deadline = answered + 60
            while not poller.shows(submission_id):
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"submission {submission_id} was not ranked within 60 s")
                time.sleep(POLL_SECONDS)
            ranked.append(time.perf_counter() - answered)
            uploads.append(upload)
    finally:
        poller.close()
    return ranked, uploads


@contextmanager
def workers(platform: Platform, count: int) -> Iterator[tuple[list[Child], dt.datetime]]:
    """`count` worker processes, started together; yields them and when the last one was ready."""
    started = [stack.start_worker(platform.log_dir, f"worker-{index}") for index in range(count)]
    try:
        for worker in started:
            worker.wait_for_log("ready.")
        yield started, timezone.now()
    finally:
        for worker in started:
            worker.stop()


def throughput(platform: Platform, count: int, burst: int) -> dict[str, Any]:
    """Submissions scored and ranked per second by `count` workers draining a queue of `burst`."""
    ids = [platform.submit()[0] for _ in range(burst)]
    with workers(platform, count) as (_, ready):
        deadline = time.monotonic() + 600
        pending = Submission.objects.filter(pk__in=ids).exclude(status=Submission.Status.SCORED)
        while pending.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{pending.count()} of {burst} submissions not scored within 600 s")
            time.sleep(0.2)
    after = Submission.objects.filter(pk__in=ids, started_at__gte=ready)
    last = after.aggregate(last=Max("finished_at"))["last"]
    done = after.count()
    seconds = (last - ready).total_seconds() if last else 0.0
    rate = done / seconds if seconds > 0 else 0.0
    print(f"  {count} worker(s): {done} of {burst} queued submissions scored after all were ready, {rate:.1f}/s")
    return {"workers": count, "burst": burst, "measured": done, "seconds": round(seconds, 3), "per_second": rate}


def _latency_figures(ranked: list[float], uploads: list[float]) -> dict[str, float]:
    return {
        "p50_seconds": percentile(ranked, 0.5),
        "p99_seconds": percentile(ranked, 0.99),
        "max_seconds": max(ranked),
        "upload_p50_seconds": percentile(uploads, 0.5),
        "samples": len(ranked),
    }


def _latency_run(platform: Platform, count: int, samples: int) -> dict[str, float]:
    with workers(platform, count):
        latencies(platform, 1)  # warm-up: the worker's first task imports and connects
        figures = _latency_figures(*latencies(platform, samples))
    print(
        f"  {count} worker(s): upload answer to ranked p50 {figures['p50_seconds'] * 1000:.0f} ms, "
        f"p99 {figures['p99_seconds'] * 1000:.0f} ms ({samples} one at a time; upload p50 "
        f"{figures['upload_p50_seconds'] * 1000:.0f} ms)"
    )
    return figures


def run(*, quick: bool) -> Result:
    size = QUICK if quick else FULL
    result = Result(NAME, quick)
    cores = os.cpu_count() or 1
    result.settings = {
        "latency_samples": size.latency_samples,
        "burst": size.burst,
        "teams": TEAMS,
        "poll_seconds": POLL_SECONDS,
        "worker": "celery worker --concurrency 1 (one process each)",
        "broker": stack.BROKER_URL.split("://")[0],
        "gunicorn": f"--workers {cores} --threads 2",
        "load_average_at_start": os.getloadavg(),
    }
    print(f"submit to ranked ({size.latency_samples} one at a time, bursts of {size.burst}):")
    stack.recreate_database()
    stack.migrate()
    stack.purge_broker()
    challenge, _ = _task()
    with tempfile.TemporaryDirectory(prefix="bench-submit-") as tmp:
        server, port = stack.start_gunicorn(Path(tmp), workers=cores, threads=2)
        try:
            platform = Platform(port, _clients(challenge, port), Path(tmp), Path(tmp))
            one = _latency_run(platform, 1, size.latency_samples)
            two = _latency_run(platform, 2, size.latency_samples)
            # In the order 1, 2, 2, 1 (ABBA): every burst makes the board longer, and each rebuild reads it all,
            # so a fixed order would hand the later runs a costlier board; ABBA cancels that drift (and a
            # drift of the machine's other load), and averaging the pairs damps run-to-run noise.
            rates = [throughput(platform, count, size.burst) for count in RUN_ORDER]
        finally:
            server.stop()
    mean = {count: statistics.fmean(r["per_second"] for r in rates if r["workers"] == count) for count in (1, 2)}
    scaling = mean[2] / mean[1] if mean[1] else 0.0
    result.figures = {"latency_1_worker": one, "latency_2_workers": two, "throughput": rates, "scaling": scaling}
    result.settings["load_average_at_end"] = os.getloadavg()
    print(
        f"  throughput (mean of two runs each): 1 worker {mean[1]:.1f}/s, 2 workers {mean[2]:.1f}/s; "
        f"2 workers / 1 worker: {scaling:.2f}x on {cores} cores"
    )
    for label, figures in (("1 worker", one), ("2 workers", two)):
        p50 = figures["p50_seconds"]
        result.goal(f"p50 upload answer to ranked, {label} (s)", f"< {P50_GOAL_SECONDS:g}", p50, p50 < P50_GOAL_SECONDS)
    result.goal("throughput 2 workers / 1 worker", f">= {SCALING_GOAL}", scaling, scaling >= SCALING_GOAL)
    if cores <= 2:
        result.note(
            f"{cores} cores are shared by the 2 workers, PostgreSQL, Redis, gunicorn and the benchmark itself: "
            "the rates vary by tens of per cent from burst to burst (see each run's figures)"
        )
    return result
