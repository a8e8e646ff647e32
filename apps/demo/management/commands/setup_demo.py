from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.demo.services import DEMO_SLUG, ORGANIZER, PARTICIPANT, demo_create


class Command(BaseCommand):
    help = "Create the demo challenge (speech selection on synthetic data) with scored baselines. Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        info = demo_create()
        verb = "Created" if info.created else "Found"
        self.stdout.write(f"{verb} the demo challenge: http://127.0.0.1:8000/challenges/{DEMO_SLUG}/")
        self.stdout.write(f"  demo participant: username {PARTICIPANT[0]!r}, password {PARTICIPANT[1]!r}")
        self.stdout.write(f"  organizer (admin at /admin/): username {ORGANIZER[0]!r}, password {ORGANIZER[1]!r}")
