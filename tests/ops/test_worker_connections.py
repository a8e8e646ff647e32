"""A worker keeps its database connection from one task to the next (a new PostgreSQL connection per submission
cost a third of the pipeline's throughput), and still drops it as Django does between requests: past
CONN_MAX_AGE, or broken. Both Celery's Django fix-up and our own handler run around every task."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest
from celery.fixups.django import DjangoWorkerFixup  # type: ignore[attr-defined]  # missing from the type stubs
from django.db import connection

from dataperf_site.celery import _recycle_database_connections, app

pytestmark = pytest.mark.django_db(transaction=True)  # autocommit, as in a worker


@pytest.fixture(autouse=True)
def _persistent_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """CONN_MAX_AGE as PostgreSQL has it here (an SQLite entry keeps Django's default, 0: a connection per task)."""
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)


def _task(*, eager: bool) -> Any:
    return SimpleNamespace(request=SimpleNamespace(is_eager=eager))


def _around_a_task(task: Any) -> None:
    """What a worker's signals run before and after a task: Celery's fix-up, then ours."""
    fixup = DjangoWorkerFixup(app)
    fixup.on_task_prerun(sender=task)
    _recycle_database_connections(task=task)
    fixup.on_task_postrun(sender=task)
    _recycle_database_connections(task=task)


def test_a_young_healthy_connection_is_kept_across_tasks() -> None:
    connection.ensure_connection()
    raw = connection.connection

    _around_a_task(_task(eager=False))
    _around_a_task(_task(eager=False))

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert connection.connection is raw


def test_a_connection_past_its_maximum_age_is_closed_after_a_task() -> None:
    connection.ensure_connection()
    connection.close_at = time.monotonic() - 1

    _around_a_task(_task(eager=False))

    assert connection.connection is None


def test_a_task_run_eagerly_leaves_the_callers_connection_alone() -> None:
    connection.ensure_connection()
    raw = connection.connection
    connection.close_at = time.monotonic() - 1

    _recycle_database_connections(task=_task(eager=True))

    assert connection.connection is raw
