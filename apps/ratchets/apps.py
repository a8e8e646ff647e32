from __future__ import annotations

from django.apps import AppConfig


class RatchetsConfig(AppConfig):
    name = "apps.ratchets"
    label = "ratchets"
    default_auto_field = "django.db.models.BigAutoField"
