from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import InvalidInput
from apps.demo.bundle import demo_bundle_path
from apps.demo.services import DEMO_SLUG, ORGANIZER, PARTICIPANT, demo_create


class Command(BaseCommand):
    help = (
        "Create the demo challenge (every benchmark on synthetic data, each task with a private split) from its "
        "bundle, with scored baselines and weeks of competition: ten teams' submissions scored by the real "
        "evaluators, rejected and failed ones, closed-division entries, finals, a disqualification, awards, the "
        "private leaderboards revealed, and the previous season, ended. Idempotent. The bundle is kept under "
        "var/bundles/ and written when missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--bundle", type=Path, help=f"Import this bundle instead of {demo_bundle_path()} (see write_demo_bundle)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            info = demo_create(bundle=options["bundle"])
        except InvalidInput as exc:
            raise CommandError(exc.message) from exc
        verb = "Created" if info.created else "Found"
        self.stdout.write(f"{verb} the demo challenge: {settings.SITE_URL}/challenges/{DEMO_SLUG}/")
        self.stdout.write(f"  demo participant: username {PARTICIPANT[0]!r}, password {PARTICIPANT[1]!r}")
        self.stdout.write(f"  organizer (admin at /admin/): username {ORGANIZER[0]!r}, password {ORGANIZER[1]!r}")
