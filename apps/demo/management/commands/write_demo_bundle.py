"""`manage.py write_demo_bundle FILE.zip`: write the demo challenge's bundle (synthetic data) without importing it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import InvalidInput
from apps.core.files import human_size
from apps.demo.bundle import demo_bundle_write


class Command(BaseCommand):
    help = (
        "Write the demo challenge as a bundle (every benchmark's demo tasks on deterministic synthetic data) "
        "without importing it; import it with import_challenge."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The bundle to write (.zip; replaced if it exists).")
        parser.add_argument(
            "--benchmark", action="append", metavar="SLUG", help="Only this benchmark's demo tasks (repeatable)."
        )
        parser.add_argument("--small", action="store_true", help="Small, quick data (as the unit tests use).")

    def handle(self, *args: Any, **options: Any) -> None:
        target: Path = options["file"]
        try:
            demo_bundle_write(target=target, benchmarks=options["benchmark"], small=options["small"])
        except InvalidInput as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Wrote the demo bundle to {target} ({human_size(target.stat().st_size)}).")
