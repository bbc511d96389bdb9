"""Build an audit export now and write it as JSON (the canonical snapshot) or XLSX."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit import renderers, selectors, services, snapshot
from audit.models import ExportStatus
from workbench.models import Tenant


class Command(BaseCommand):
    help = "Export a frozen audit snapshot of one tenant (JSON or XLSX) and print its SHA-256."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--format", required=True, choices=["json", "xlsx"])
        parser.add_argument("--out", required=True, help="file to write")
        parser.add_argument("--from", dest="date_from", help="first day (YYYY-MM-DD)")
        parser.add_argument("--to", dest="date_to", help="last day (YYYY-MM-DD)")
        parser.add_argument("--jurisdiction", help="US, EU or GB")
        parser.add_argument("--outcome", help="classified, needs_review or blocked")
        parser.add_argument("--sku", action="append", default=[], help="a product (repeatable)")

    def handle(self, *args, **opts):
        tenant = Tenant.objects.filter(slug=opts["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {opts['tenant']!r}.")
        scope = {
            "from": opts["date_from"],
            "to": opts["date_to"],
            "jurisdiction": opts["jurisdiction"],
            "outcome": opts["outcome"],
            "skus": opts["sku"],
        }
        try:
            export = services.export_request(
                actor=None, tenant=tenant, scope=scope, background=False
            )
        except ValidationError as err:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in err.message_dict.items())
            ) from None
        export = services.export_build(export_id=export.pk)
        if export.status != ExportStatus.READY:
            raise CommandError(f"Export #{export.pk} failed: {export.failure_reason}")
        data = selectors.export_bytes(export)
        out = Path(opts["out"])
        if opts["format"] == "json":
            out.write_bytes(data)
            # The digest beside the file, in sha256sum's format, for audit_export_verify.
            out.with_name(out.name + ".sha256").write_text(f"{export.sha256}  {out.name}\n")
        else:
            with out.open("wb") as handle:
                renderers.render_xlsx(snapshot.open_lazily(data), export.sha256, handle)
        self.stdout.write(
            f"Export #{export.pk} of {tenant.slug}: {export.summary} -> {out}\n"
            f"sha256 {export.sha256}"
        )
