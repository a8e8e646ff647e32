"""`manage.py import_challenge FILE.zip --organizer USERNAME [--slug NEW] [--check]`: create a challenge from a
bundle written by export_challenge, after checking all of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.backoffice.bundles import challenge_bundle_import, challenge_bundle_validate
from apps.core.errors import InvalidInput


class Command(BaseCommand):
    help = (
        "Import a challenge bundle (see export_challenge). Everything is checked first; on any problem nothing "
        "is created and every problem is listed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The bundle (.zip).")
        parser.add_argument(
            "--organizer",
            action="append",
            required=True,
            metavar="USERNAME",
            help="An organizer of the imported challenge (repeat for several).",
        )
        parser.add_argument("--slug", help="Import under this slug instead of the bundle's.")
        parser.add_argument("--check", action="store_true", help="Only check the bundle; create nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        archive: Path = options["file"]
        if not archive.is_file():
            raise CommandError(f"{archive}: no such file.")
        organizers = _users(options["organizer"])
        try:
            if options["check"]:
                plan = challenge_bundle_validate(archive=archive, slug=options["slug"])
                self.stdout.write(f"{archive} is valid: challenge {plan.slug}, {plan.summary()}.")
                return
            challenge = challenge_bundle_import(
                archive=archive, organizers=organizers, slug=options["slug"], actor=None
            )
        except InvalidInput as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Imported {challenge.slug} from {archive}: {challenge.tasks.count()} task(s), "
            f"{challenge.divisions.count()} division(s), organizers {', '.join(options['organizer'])}."
        )


def _users(usernames: list[str]) -> list[User]:
    users = {user.username: user for user in User.objects.filter(username__in=usernames)}
    unknown = [name for name in usernames if name not in users]
    if unknown:
        raise CommandError(f"No user named {', '.join(repr(name) for name in unknown)}.")
    return [users[name] for name in dict.fromkeys(usernames)]
