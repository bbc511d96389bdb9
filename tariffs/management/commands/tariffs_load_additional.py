"""Load Section 301 (China) and Section 232 (metals) additional-duty lists."""

from django.core.management.base import CommandError

from tariffs import parsers, services
from tariffs.management.commands._base import LoaderCommand


class Command(LoaderCommand):
    help = "Load Section 301 and/or Section 232 list CSV files (the kind is read from the header)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("locations", nargs="+", help="File paths or https:// URLs.")

    def handle(self, *args, **options):
        for location in options["locations"]:
            source = self.read(location)
            try:
                kind = parsers.sniff_additional(source)
            except parsers.SourceError as err:
                raise CommandError(f"Refused, nothing was loaded: {err}") from err
            self.run(
                kind.replace("section", "Section "),
                lambda source=source, kind=kind: services.reference_list_load(
                    actor=self.actor(options), kind=kind, source=source
                ),
            )
