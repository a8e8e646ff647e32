from __future__ import annotations

from django.apps import AppConfig


class DivisionsConfig(AppConfig):
    name = "apps.divisions"
    label = "divisions"
    default_auto_field = "django.db.models.BigAutoField"
