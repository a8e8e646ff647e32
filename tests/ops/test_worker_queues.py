"""Beat's reaper goes to a queue that every worker the platform starts consumes: the `make run` worker, the
benchmarks' and the tests' workers, and every worker command line of the README. A reap message on a queue that
some deployment's workers do not consume would never run there, and expired leases would pile up unseen.

Every other task goes to a declared queue that those workers consume too (the README's workers together)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings

import apps.jobs.tasks  # noqa: F401 - registers every task of the platform with the app
from apps.core.queues import LONG_QUEUE, SENT_TO, VALIDATE_QUEUE
from bench import stack
from dataperf_site.celery import app
from scripts import run_all
from scripts.processes import ROOT, WORKER_QUEUES
from tests.e2e.conftest import worker_argv

REAP_TASK = "dataperf.reap_submissions"
README_WORKER = re.compile(r"celery -A dataperf_site worker -Q ([\w,]+)")


def consumed(argv: list[str]) -> set[str]:
    """The queues a `celery worker` command line consumes (`-Q a,b`); Celery's default queue without `-Q`."""
    if "-Q" not in argv:
        return {settings.CELERY_TASK_DEFAULT_QUEUE}
    return set(argv[argv.index("-Q") + 1].split(","))


def beat_entry(name: str) -> dict[str, Any]:
    entry: dict[str, Any] = settings.CELERY_BEAT_SCHEDULE[name]
    return entry


def beat_queue(name: str) -> str:
    """The queue beat's entry `name` is sent to, as Celery's router resolves it (the entry's options first)."""
    entry = beat_entry(name)
    route = app.amqp.router.route(dict(entry.get("options", {})), entry["task"], args=(), kwargs={})
    return str(route["queue"].name)


def task_queues() -> dict[str, str]:
    """Every task of the platform and the queue it goes to: the one the application sends it to (`SENT_TO`),
    else the one Celery's router gives it (sent by hand or by beat)."""
    names = [name for name in app.tasks if name.startswith("dataperf.")]
    routed = {name: str(app.amqp.router.route({}, name, args=(), kwargs={})["queue"].name) for name in names}
    return {**routed, **SENT_TO}


def readme_worker_queues() -> list[set[str]]:
    """The queues of every `celery ... worker -Q ...` command in the README (production and sandbox hosts)."""
    return [set(found.split(",")) for found in README_WORKER.findall((ROOT / "README.md").read_text())]


STARTED_WORKERS: dict[str, Callable[[], list[str]]] = {
    "make run": lambda: run_all.PROCESSES["worker"],
    "bench": lambda: stack.worker_argv("bench-worker"),
    "e2e and reliability tests": lambda: worker_argv("test-worker", concurrency=2),
}


def test_the_reaper_has_a_declared_queue_of_its_own() -> None:
    queue = beat_queue("reap-submissions")
    declared = [declared.name for declared in settings.CELERY_TASK_QUEUES]
    assert queue in declared
    assert queue not in {"validate", "evaluate", "sandbox"}  # never behind a backlog of submissions
    # Sent by hand (`reap_submissions.delay()`), it goes to the same queue.
    assert app.amqp.router.route({}, REAP_TASK, args=(), kwargs={})["queue"].name == queue


@pytest.mark.parametrize("starter", sorted(STARTED_WORKERS))
def test_every_worker_the_platform_starts_consumes_the_reapers_queue(starter: str) -> None:
    assert beat_queue("reap-submissions") in consumed(STARTED_WORKERS[starter]())


def test_every_worker_command_of_the_readme_consumes_the_reapers_queue() -> None:
    commands = readme_worker_queues()
    assert len(commands) >= 3  # the production block's two kinds of worker host, the sandbox section's
    assert [queues for queues in commands if beat_queue("reap-submissions") not in queues] == []


def test_the_make_run_worker_consumes_every_declared_queue() -> None:
    declared = {queue.name for queue in settings.CELERY_TASK_QUEUES}
    assert set(WORKER_QUEUES) == declared  # scripts/processes.py cannot import the settings: kept equal here
    assert consumed(run_all.PROCESSES["worker"]) == declared


def test_a_reap_message_outlives_the_next_one_so_load_cannot_drop_every_run() -> None:
    entry = beat_entry("reap-submissions")
    # The newest message is at most one interval old when a worker frees a slot: it must still be valid then.
    assert entry["options"]["expires"] >= 2 * entry["schedule"]


def test_every_task_goes_to_a_declared_queue() -> None:
    declared = {queue.name for queue in settings.CELERY_TASK_QUEUES}
    queues = task_queues()
    assert set(SENT_TO) <= set(queues)  # every task the application sends is registered
    assert {name: queue for name, queue in queues.items() if queue not in declared} == {}


@pytest.mark.parametrize("starter", sorted(STARTED_WORKERS))
def test_every_worker_the_platform_starts_consumes_every_tasks_queue(starter: str) -> None:
    queues = set(task_queues().values())
    assert queues - consumed(STARTED_WORKERS[starter]()) == set()


def test_the_readme_workers_together_consume_every_tasks_queue() -> None:
    consumed_somewhere = set().union(*readme_worker_queues())
    assert set(task_queues().values()) - consumed_somewhere == set()


def test_exports_run_on_the_long_queue_however_they_are_sent() -> None:
    export = "dataperf.export_submissions"
    assert SENT_TO[export] == LONG_QUEUE != VALIDATE_QUEUE
    # Sent by hand (`export_submissions.delay()`), it goes to the same queue.
    assert app.amqp.router.route({}, export, args=(), kwargs={})["queue"].name == LONG_QUEUE
