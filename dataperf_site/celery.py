"""The Celery application.

Workers: `celery -A dataperf_site worker -Q validate,evaluate,long,maintenance` (every worker consumes
`maintenance`, beat's reaper; README, "Production"); beat: `celery -A dataperf_site beat`. Each worker proves
that it consumes (dataperf_site/liveness.py) and runs its pool with locks a killed pool process cannot leak
(dataperf_site/worker_pool.py, settings.CELERY_WORKER_POOL).
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, Task
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections

from dataperf_site.liveness import Liveness

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dataperf_site.settings")

app = Celery("dataperf_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["apps.jobs"])
app.steps["consumer"].add(Liveness)


@task_prerun.connect
@task_postrun.connect
def _recycle_database_connections(task: Task[Any, Any] | None = None, **kwargs: object) -> None:
    """Around every task a worker runs, treat the database connections as Django does around a request: close
    those older than CONN_MAX_AGE or broken, and health-check the others before their next use. Celery's
    fix-up would instead close them all (a new PostgreSQL connection per submission) were CELERY_DB_REUSE_MAX
    not set. Not for a task run eagerly (in the caller's process, maybe inside its transaction)."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    close_old_connections()
