"""The Celery application.

Workers: `celery -A dataperf_site worker -Q validate,evaluate`; beat: `celery -A dataperf_site beat`.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dataperf_site.settings")

app = Celery("dataperf_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["apps.submissions", "apps.leaderboards"])
