from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        from apps.core import checks  # noqa: F401  - registers the system checks
        from evaluators.registry import configure

        configure(settings.EVALUATOR_EXTRA_PATHS)
