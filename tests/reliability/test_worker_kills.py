"""A hundred SIGKILLs to the evaluating workers, and still every submission is scored exactly once.

Against PostgreSQL and Redis, with the real beat reaper and leases of three seconds: two workers (two pool
processes each) evaluate 30 submissions of eight teams while a killer thread, at random moments, SIGKILLs a
pool process (its worker forks a new one) or, every tenth time, a whole worker (a new one is started). Most
kills are aimed at a process that holds a lease, so they land mid-evaluation (also inside the transaction
that records the score); the rest hit any pool process that is up. At the end: every submission scored, by
one evaluation each, none waiting or running, none failed (the retry budget is far out of reach), and the
materialised board has one row per team and equals the board computed from the scores.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Sum

from apps.challenges.models import Task
from apps.divisions.models import Division
from apps.submissions.models import Submission
from tests.e2e.conftest import Process, wait_until
from tests.reliability.conftest import Pipeline, SubmitMany, assert_scored_exactly_once, purge_broker, settled

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("redis_broker")]

SUBMISSIONS = 30
KILLS = 100
WHOLE_WORKER_EVERY = 10
AIM_AT_EVALUATION = 0.8
"""The share of kills aimed at a process holding a lease (when one does); the others hit any pool process."""
PAUSE = (0.05, 0.6)
"""Seconds between two kills, drawn uniformly."""
POOL_PROCESS_UP = 1.0
"""A pool process is a target once it has lived this long. One killed before it reported for work is noticed
by its worker only at its next five-second check (and at start-up it stops the worker: "Could not start
worker processes"); real faults rarely strike in that first second, and this test is about evaluations."""
WORKERS = 2
POOL_PROCESSES = 2
"""Per worker. A worker notices a dead pool process at once or only at its five-second check (it varies), so
four pool processes keep enough targets up for a kill every half second."""


@dataclass
class KillCount:
    kills: int = 0
    mid_evaluation: int = 0
    whole_worker: int = 0
    error: BaseException | None = None


def _pool_processes(worker: Process) -> list[int]:
    """The worker's live pool processes (its children). A pool process that died is forked again by a thread
    of the worker, so every thread's children count; a dead one not yet reaped does not."""
    children: list[int] = []
    for thread in Path(f"/proc/{worker.popen.pid}/task").glob("*"):
        try:
            children += [int(child) for child in (thread / "children").read_text().split()]
        except OSError:
            continue  # the thread or the worker is gone
    return [child for child in children if _up_for(child) > 0]


def _up_for(pid: int) -> float:
    """Seconds since the process started; 0 for one that is dead (a zombie included) or gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return 0.0
    if fields[0] in {"Z", "X"}:
        return 0.0
    return uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK")


def _holds_a_lease(pid: int) -> bool:
    """A submission is running under a lease taken by this process (`worker_name()` embeds the pid)."""
    return Submission.objects.filter(status=Submission.Status.RUNNING, lease_owner__contains=f":{pid}:").exists()


class Killer(threading.Thread):
    def __init__(self, pipeline: Pipeline, count: KillCount) -> None:
        super().__init__(name="killer", daemon=True)
        self.pipeline = pipeline
        self.count = count
        self.random = random.Random(20240607)  # noqa: S311 (a schedule, not a secret)
        self.whole_due = False
        self.finished_at = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            while self.count.kills < KILLS and not self.stop.wait(self.random.uniform(*PAUSE)):
                self._kill_one()
        except BaseException as exc:  # reported by the test's main thread
            self.count.error = exc
        finally:
            self.finished_at = time.monotonic()
            connection.close()

    def _kill_one(self) -> None:
        while len(self.pipeline.alive_workers()) < WORKERS:  # one that stopped by itself is replaced too
            self.pipeline.start_worker(wait=False, concurrency=POOL_PROCESSES)
        targets = [(worker, pid) for worker in self.pipeline.alive_workers() for pid in _pool_processes(worker)]
        if not targets:
            return
        evaluating = [target for target in targets if _holds_a_lease(target[1])]
        up = [target for target in targets if _up_for(target[1]) >= POOL_PROCESS_UP] + evaluating
        aimed = evaluating if evaluating and self.random.random() < AIM_AT_EVALUATION else up
        if not aimed:
            return
        worker, pid = self.random.choice(aimed)
        if (self.count.kills + 1) % WHOLE_WORKER_EVERY == 0:
            self.whole_due = True
        # The whole worker only while another one is up: one or two workers are alive at any time.
        if self.whole_due and any(other is not worker for other, _ in targets):
            worker.kill()
            self.pipeline.start_worker(wait=False, concurrency=POOL_PROCESSES)
            self.count.whole_worker += 1
            self.whole_due = False
        else:
            os.kill(pid, signal.SIGKILL)
        self.count.kills += 1
        time.sleep(0.2)  # a COMMIT already sent when the signal landed is applied by now
        # A dead process cannot release its lease: a row still naming it was cut off mid-evaluation.
        self.count.mid_evaluation += _holds_a_lease(pid)


def test_a_hundred_sigkills_leave_every_submission_scored_exactly_once(
    pipeline: Pipeline, submit_many: SubmitMany, open_task: Task, open_division: Division
) -> None:
    started = time.monotonic()
    purge_broker()
    pipeline.start_beat()
    pipeline.start_workers(WORKERS, concurrency=POOL_PROCESSES)
    submissions = submit_many(SUBMISSIONS)
    count = KillCount()
    killer = Killer(pipeline, count)
    killer.start()
    try:
        wait_until(
            lambda: not killer.is_alive() and settled(submissions),
            timeout=240,
            what="the kills and the scores",
            logs=pipeline.logs,
        )
    finally:
        killer.stop.set()  # before the pipeline's teardown: the killer starts workers
        killer.join(timeout=30)

    assert count.error is None, repr(count.error)
    attempts = Submission.objects.filter(pk__in=[s.pk for s in submissions]).aggregate(n=Sum("attempts"))["n"]
    print(
        f"\n{count.kills} SIGKILLs ({count.whole_worker} of a whole worker), {count.mid_evaluation} mid-evaluation; "
        f"{attempts} attempts for {SUBMISSIONS} submissions; {len(pipeline.workers)} workers started; "
        f"{killer.finished_at - started:.0f} s to the last kill, {time.monotonic() - started:.0f} s in all"
    )
    assert count.kills == KILLS
    assert_scored_exactly_once(submissions, open_task, open_division)
    # Each kill mid-evaluation cost its submission one attempt, which a rerun made good.
    assert attempts >= SUBMISSIONS + count.mid_evaluation
    assert count.mid_evaluation >= KILLS // 3
