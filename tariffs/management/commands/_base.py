"""Shared plumbing of the tariff loading commands: actor lookup, errors, progress."""

import datetime as dt
import time

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tariffs import parsers


class LoaderCommand(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("--user", help="Username recorded as the loader in the audit log.")

    def actor(self, options):
        username = options.get("user")
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        return user

    def read(self, location: str) -> parsers.Source:
        self.stdout.write(f"Reading {location} …")
        try:
            source = parsers.read_source(location)
        except (parsers.SourceError, OSError) as err:
            raise CommandError(str(err)) from err
        self.stdout.write(f"  {len(source.data):,} bytes, SHA-256 {source.sha256[:16]}…")
        return source

    def run(self, label: str, action):
        """Run a load, turning refusals into a CommandError that says where the file is wrong."""
        started = time.monotonic()
        try:
            result = action()
        except parsers.SourceError as err:
            raise CommandError(f"Refused, nothing was loaded: {err}") from err
        except ValidationError as err:
            raise CommandError("Refused: " + " ".join(err.messages)) from err
        seconds = time.monotonic() - started
        if result.created:
            self.stdout.write(
                self.style.SUCCESS(f"Loaded {label}: {result.rows:,} rows in {seconds:.1f} s.")
            )
        else:
            self.stdout.write(f"Already loaded ({label}, same SHA-256): nothing to do.")
        return result

    def progress(self, count: int) -> None:
        self.stdout.write(f"  … {count:,} lines written")


def parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as err:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD)") from err
