"""Load the CBP partner-government-agency flag report (agency and AD/CV flags per HTS10)."""

from tariffs import services
from tariffs.management.commands._base import LoaderCommand
from tariffs.models import ReferenceList


class Command(LoaderCommand):
    help = "Load the CBP HTS PGA report (path or https:// URL)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("location", help="File path or https:// URL of the CSV report.")

    def handle(self, *args, **options):
        source = self.read(options["location"])
        self.run(
            "PGA flags",
            lambda: services.reference_list_load(
                actor=self.actor(options), kind=ReferenceList.Kind.PGA, source=source
            ),
        )
