"""Import a catalog file from the command line, as a given member of a tenant."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from catalog import facts as F
from catalog import importer, services, workbooks
from catalog.models import EditsChoice, ImportStatus
from workbench.models import Tenant
from workbench.roles import perm


class Command(BaseCommand):
    help = (
        "Import an .xlsx or .csv catalog into a tenant. Exits 0 when the file was read (even with "
        "refused rows), non-zero with the reason when the whole file is refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument(
            "--user", required=True, help="username of a member who may edit the catalog"
        )
        parser.add_argument("--errors-out", type=Path, help="write the refused rows workbook here")
        edits = parser.add_mutually_exclusive_group()
        edits.add_argument(
            "--keep-edits",
            dest="edits",
            action="store_const",
            const=EditsChoice.KEEP,
            help="products whose facts were last set in the app or through the API keep them",
        )
        edits.add_argument(
            "--overwrite-edits",
            dest="edits",
            action="store_const",
            const=EditsChoice.OVERWRITE,
            help="the file's facts are written over facts last set in the app or through the API",
        )

    def handle(
        self, *args, file: Path, tenant: str, user: str, errors_out=None, edits=None, **options
    ):
        tenant_obj = Tenant.objects.filter(slug=tenant).first()
        if tenant_obj is None:
            raise CommandError(f"No tenant {tenant!r}.")
        actor = get_user_model().objects.filter(username=user, is_active=True).first()
        if actor is None or not actor.has_perm(perm("edit_catalog"), tenant_obj):
            raise CommandError(f"{user!r} is not a member of {tenant!r} who may edit the catalog.")
        file = Path(file)
        errors_out = Path(errors_out) if errors_out else None
        if not file.is_file():
            raise CommandError(f"{file} is not a file.")
        batch = services.import_batch_from_path(
            actor=actor, tenant=tenant_obj, path=file, source="cli", edits=edits or ""
        )
        if batch.status == ImportStatus.CONFIRM:
            self._list_conflicts(batch)
            raise CommandError(
                f"{file.name} would overwrite facts last set in the app or through the API for "
                f"{len(batch.conflicts)} product(s) (listed above); nothing was written. Run "
                "again with --keep-edits to keep the in-app values (the other rows are imported) "
                "or --overwrite-edits to write the file's facts, or choose on the page of "
                f"import #{batch.pk}."
            )
        if batch.status != ImportStatus.DONE:
            raise CommandError(f"{file.name} refused: {batch.message}")
        self.stdout.write(
            f"Import #{batch.pk} of {file.name}: {batch.total_rows} rows — {batch.new_count} new, "
            f"{batch.updated_count} updated, {batch.unchanged_count} unchanged, "
            + (f"{batch.kept_count} kept in-app values, " if batch.kept_count else "")
            + f"{batch.refused_count} refused."
        )
        if batch.conflicts:
            done = "kept their in-app facts" if batch.edits == "keep" else "were overwritten"
            self.stdout.write(
                f"{len(batch.conflicts)} product(s) last set in the app or through the API {done}:"
            )
            self._list_conflicts(batch)
        for line in importer.row_error_lines(batch.refused_rows)[:50]:
            self.stdout.write(f"  {line}")
        if errors_out and batch.refused_count:
            errors_out.write_bytes(workbooks.refused_workbook(batch))
            self.stdout.write(f"Refused rows written to {errors_out}.")

    def _list_conflicts(self, batch) -> None:
        for c in batch.conflicts[:50]:
            facts = ", ".join(
                f"{F.LABELS.get(key, key)} {pair[0]!r} in the app, {pair[1]!r} in the file"
                for key, pair in c["changes"].items()
            )
            who = c["edited_by"] or "the API or the system"
            self.stdout.write(f"  {c['sku']} (set by {who} at {c['edited_at'][:16]}): {facts}")
        if len(batch.conflicts) > 50:
            self.stdout.write(f"  … and {len(batch.conflicts) - 50} more")
