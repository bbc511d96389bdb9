"""Load the EU Combined Nomenclature (codes and descriptions only: no duty rates)."""

from tariffs import services
from tariffs.management.commands._base import LoaderCommand, parse_date


class Command(LoaderCommand):
    help = "Load the EU CN nomenclature from php-cncodes JSON files (no duty rates are loaded)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("cn8", help="The *_cn8_codes_*.json file (path or https:// URL).")
        parser.add_argument(
            "--headings", help="Headings JSON (default: the sibling *_headings_* file)."
        )
        parser.add_argument("--subheadings", help="Subheadings JSON (default: the sibling file).")
        parser.add_argument("--revision", default="CN 2026")
        parser.add_argument("--effective-date", default="2026-01-01")

    def handle(self, *args, **options):
        cn8 = options["cn8"]
        headings = self.read(options["headings"] or cn8.replace("_cn8_codes_", "_headings_"))
        subheadings = self.read(
            options["subheadings"] or cn8.replace("_cn8_codes_", "_subheadings_")
        )
        source = self.read(cn8)
        self.stdout.write("Note: the CN files carry no duty rates; EU duty estimates will say so.")
        self.run(
            f"EU {options['revision']}",
            lambda: services.schedule_load_eu_cn(
                actor=self.actor(options),
                cn8=source,
                headings=headings,
                subheadings=subheadings,
                revision=options["revision"],
                effective_date=parse_date(options["effective_date"]),
            ),
        )
