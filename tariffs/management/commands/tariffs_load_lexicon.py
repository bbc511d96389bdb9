"""Load a lexicon of everyday terms (UK Trade Tariff search intercept messages CSV)."""

from tariffs import services
from tariffs.management.commands._base import LoaderCommand


class Command(LoaderCommand):
    help = (
        "Load a lexicon CSV (term,message,commodity_codes,subheadings,headings,chapters,"
        "too_generic) from a path or https:// URL as the current lexicon."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("location", help="File path or https:// URL of the CSV.")

    def handle(self, *args, **options):
        source = self.read(options["location"])
        result = self.run(
            "lexicon",
            lambda: services.lexicon_load(
                actor=self.actor(options), source=source, location=options["location"]
            ),
        )
        if result.created:
            self.report_corrections(result.obj.corrections)

    def report_corrections(self, corrections: list[dict]) -> None:
        # Corrections change what experts published: say each one, every time it is applied.
        for fix in corrections:
            if fix["applied"]:
                self.stdout.write(
                    self.style.WARNING(
                        f"Corrected “{fix['term']}” (line {fix['line']}): "
                        f"{fix['from']} → {fix['to']}. {fix['reason']}"
                    )
                )
            else:
                self.stdout.write(
                    f"Correction not needed: “{fix['term']}” no longer points at {fix['from']} "
                    "(or is absent); loaded as published."
                )
