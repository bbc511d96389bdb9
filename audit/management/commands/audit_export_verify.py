"""Check an exported JSON snapshot against the export recorded in this database.

Where this database holds the file's tenant, the record is the only authority: the file must
match the digest recorded for the export it names, whatever a ``.sha256`` file beside it says
(that file travels with the export and can be forged with it). Elsewhere (offline) the file is
checked against ``--sha256`` or the ``.sha256`` file, and the output says so.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit import canonical, selectors, snapshot
from workbench.models import Tenant


class Command(BaseCommand):
    help = (
        "Verify an exported JSON snapshot: against the digest recorded in this database when it "
        "holds the export's tenant; offline, against --sha256 or PATH.sha256."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--sha256", help="the digest you expect (from the certificate)")

    def handle(self, *args, path, sha256=None, **opts):
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"{path}: no such file.")
        data = file.read_bytes()
        try:
            document = snapshot.read_export_file(data)
        except snapshot.NotAnExport as err:
            raise CommandError(f"{path}: {err}") from None
        sidecar = file.with_name(file.name + ".sha256")
        claimed = document.get("tenant") or {}
        tenant = Tenant.objects.filter(
            pk=claimed.get("id") if isinstance(claimed.get("id"), int) else None,
            slug=str(claimed.get("slug")),
        ).first()
        if tenant is None:
            self._offline(path, data, document, sidecar, sha256)
        else:
            self._against_record(path, data, document, tenant, sidecar, sha256)

    def _against_record(self, path, data, document, tenant, sidecar, sha256):
        try:
            check = selectors.export_file_check(tenant, data, document)
        except selectors.ExportFileRefused as err:
            raise CommandError(
                f"{path}: {err} This database holds tenant {tenant.slug}, so the file is checked "
                "only against its record: its export id was changed, or it was made elsewhere."
            ) from None
        source = f"export #{check.export.pk} as recorded in this database"
        given = sha256.strip().lower() if sha256 else None
        notes = []
        if sidecar.is_file() and _sidecar_digest(sidecar) != check.export.sha256:
            notes.append(f"  {sidecar.name} names another digest than the record: do not trust it.")
        if check.matches and given in (None, check.sha256):
            self.stdout.write(f"{path}: OK, sha256 {check.sha256} matches {source}.")
            for note in notes:
                self.stdout.write(note)
            return
        if check.matches:
            lines = [f"{path}: sha256 {check.sha256} matches {source}, not the digest given."]
        else:
            lines = [
                f"{path}: sha256 {check.sha256} does not match {source} ({check.export.sha256})."
            ]
            if given and given != check.sha256:
                lines.append(f"  it does not match the digest given ({given}) either.")
        if not check.canonical:
            lines.append("  the file is not in canonical form (re-saved or re-formatted?)")
        if check.snapshot_problem:
            lines.append(f"  (cannot compare: {check.snapshot_problem})")
        lines += [f"  {d}" for d in check.differences] + notes
        raise CommandError("\n".join(lines))

    def _offline(self, path, data, document, sidecar, sha256):
        if sha256:
            expected, source = sha256.strip().lower(), "the digest given"
        elif sidecar.is_file():
            expected, source = _sidecar_digest(sidecar), f"{sidecar.name}"
        else:
            raise CommandError(
                f"{path}: this database does not hold the export's tenant, so there is no record "
                f"to compare with: give --sha256 (from the certificate) or put it in "
                f"{sidecar.name}."
            )
        actual = snapshot.digest(data)
        where = "the file beside it" if source == sidecar.name else "the digest given"
        if expected == actual:
            self.stdout.write(
                f"{path}: OK, sha256 {actual} matches {source}: checked against {where}, "
                "not the record."
            )
            return
        lines = [f"{path}: sha256 {actual} does not match {source} ({expected})."]
        if canonical.dumps_bytes(document) != data:
            lines.append("  the file is not in canonical form (re-saved or re-formatted?)")
        raise CommandError("\n".join(lines))


def _sidecar_digest(sidecar: Path) -> str:
    words = sidecar.read_text(errors="replace").split()
    return words[0].lower() if words else ""
