"""`manage.py export_challenge SLUG FILE.zip`: write a challenge as a bundle (its settings and all its data)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.backoffice.bundles import challenge_bundle_export
from apps.challenges.models import Challenge
from apps.core.errors import InvalidInput
from apps.core.files import human_size


class Command(BaseCommand):
    help = (
        "Export a challenge (settings, divisions, tasks, public and hidden data) to one zip bundle; "
        "import it elsewhere with import_challenge. Holds no participants, submissions or scores."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The challenge's slug.")
        parser.add_argument("file", type=Path, help="The bundle to write (.zip; replaced if it exists).")

    def handle(self, *args: Any, **options: Any) -> None:
        challenge = Challenge.objects.filter(slug=options["slug"]).first()
        if challenge is None:
            raise CommandError(f"No challenge has the slug {options['slug']!r}.")
        target: Path = options["file"]
        try:
            challenge_bundle_export(challenge=challenge, target=target)
        except InvalidInput as exc:
            raise CommandError(exc.message) from exc
        tasks = challenge.tasks.count()
        self.stdout.write(
            f"Exported {challenge.slug} ({tasks} task(s)) to {target} ({human_size(target.stat().st_size)})."
        )
