"""System checks run at start-up: a misconfigured evaluator registry stops the platform with a clear error."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from evaluators.registry import check_registry, configure
from evaluators.runtime import blas_problems


@register()
def evaluator_registry_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    configure(settings.EVALUATOR_EXTRA_PATHS)
    return [
        Error(problem, hint="Fix EVALUATOR_EXTRA_PATHS or the installed evaluator packages.", id="core.E001")
        for problem in check_registry()
    ]


@register()
def numeric_runtime_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    return [
        Warning(problem, hint="Set OPENBLAS_CORETYPE=Haswell before the process starts.", id="core.W002")
        for problem in blas_problems()
    ]


@register(deploy=True)
def broker_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        return [
            Warning(
                "The file-system broker is for one machine only.",
                hint="Set CELERY_BROKER_URL to redis:// or amqp:// for production.",
                id="core.W001",
            )
        ]
    return []
