"""The DataPerf platform's Django project package."""

from __future__ import annotations

# Before anything loads numpy: select the OpenBLAS kernel the reference scores were computed with
# (evaluators/runtime.py explains why a kernel can change a score).
from evaluators.runtime import pin_openblas_kernel

pin_openblas_kernel()

from dataperf_site.celery import app as celery_app  # noqa: E402 - must come after the kernel pin

__all__ = ["celery_app"]
