"""The DataPerf platform's Django project package."""

from __future__ import annotations

from dataperf_site.celery import app as celery_app

__all__ = ["celery_app"]
