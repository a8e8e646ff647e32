from __future__ import annotations

from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """The organizers' back office: every admin registration whose actions span layers (a disqualification
    rebuilds leaderboards and writes the audit log), and the audit log itself."""

    name = "apps.backoffice"
    label = "backoffice"
    verbose_name = "Back office"
    default_auto_field = "django.db.models.BigAutoField"
