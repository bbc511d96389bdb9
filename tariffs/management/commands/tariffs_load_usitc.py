"""Load a USITC HTS "Export to CSV" file as a new revision of the US schedule."""

import re

from django.core.management.base import CommandError

from tariffs import services
from tariffs.management.commands._base import LoaderCommand, parse_date

_REVISION_IN_NAME = re.compile(r"(\d{4})_rev(\d+)", re.IGNORECASE)


class Command(LoaderCommand):
    help = "Load a USITC HTS CSV export (path or https:// URL) as a new US schedule revision."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("location", help="File path or https:// URL of the CSV export.")
        parser.add_argument(
            "--revision", help='Revision label, e.g. "2026 Rev 4" (default: from the file name).'
        )
        parser.add_argument(
            "--effective-date", required=True, help="Date the revision took effect (YYYY-MM-DD)."
        )
        parser.add_argument("--jurisdiction", default="US")

    def handle(self, *args, **options):
        revision = options["revision"]
        if not revision:
            match = _REVISION_IN_NAME.search(options["location"])
            if match is None:
                raise CommandError("give --revision (the file name does not say, e.g. 2026_rev4)")
            revision = f"{match.group(1)} Rev {int(match.group(2))}"
        source = self.read(options["location"])
        self.run(
            f"{options['jurisdiction']} {revision}",
            lambda: services.schedule_load_usitc(
                actor=self.actor(options),
                source=source,
                revision=revision,
                effective_date=parse_date(options["effective_date"]),
                jurisdiction=options["jurisdiction"].upper(),
                progress=self.progress,
            ),
        )
