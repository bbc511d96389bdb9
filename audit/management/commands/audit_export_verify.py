"""Recompute the SHA-256 of an exported JSON snapshot and say whether, and where, it differs."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit import canonical, selectors, snapshot
from audit.models import AuditExport


def differences(stored, found, path="$", limit=10) -> list[str]:
    """Return up to ``limit`` JSON paths where ``found`` differs from ``stored``."""
    out: list[str] = []

    def walk(a, b, where):
        if len(out) >= limit:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b)):
                if key not in b:
                    out.append(f"{where}.{key}: missing from the file")
                elif key not in a:
                    out.append(f"{where}.{key}: not in the export")
                else:
                    walk(a[key], b[key], f"{where}.{key}")
        elif isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                out.append(f"{where}: {len(a)} items in the export, {len(b)} in the file")
            for i, (x, y) in enumerate(zip(a, b, strict=False)):
                walk(x, y, f"{where}[{i}]")
        elif a != b:
            out.append(
                f"{where}: export has {canonical.dumps(a)[:80]}, file has {canonical.dumps(b)[:80]}"
            )

    walk(stored, found, path)
    return out


class Command(BaseCommand):
    help = (
        "Verify an exported JSON snapshot: recompute its SHA-256 and compare it with --sha256, "
        "with PATH.sha256, or with the export recorded in this database."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--sha256", help="the digest you expect (from the certificate)")

    def handle(self, *args, path, sha256=None, **opts):
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"{path}: no such file.")
        data = file.read_bytes()
        actual = snapshot.digest(data)
        try:
            document = json.loads(data)
        except ValueError as err:
            raise CommandError(f"{path} is not JSON: {err}") from None
        export = self._recorded(document)
        sidecar = file.with_name(file.name + ".sha256")
        if sha256:
            expected, source = sha256.lower(), "the digest given"
        elif sidecar.is_file():
            expected, source = sidecar.read_text().split()[0].lower(), sidecar.name
        elif export is not None:
            expected, source = export.sha256, f"export #{export.pk} as recorded"
        else:
            raise CommandError(
                f"No digest to compare with: give --sha256, put it in {sidecar.name}, or run "
                "this where the export is recorded."
            )
        if expected == actual:
            self.stdout.write(f"{path}: OK, sha256 {actual} matches {source}.")
            return
        lines = [f"{path}: sha256 {actual} does not match {source} ({expected})."]
        if canonical.dumps_bytes(document) != data:
            lines.append("  the file is not in canonical form (re-saved or re-formatted?)")
        if export is not None and export.sha256 != actual:
            try:
                stored = selectors.export_snapshot(export)
            except selectors.SnapshotTampered as err:
                lines.append(f"  (cannot compare: {err})")
            else:
                lines += [f"  {d}" for d in differences(stored, document)]
        raise CommandError("\n".join(lines))

    def _recorded(self, document: dict) -> AuditExport | None:
        """Return the ready export the document claims to be, when this database holds it."""
        export_id = (document.get("export") or {}).get("id")
        slug = (document.get("tenant") or {}).get("slug")
        if not isinstance(export_id, int):
            return None
        return AuditExport.objects.filter(pk=export_id, tenant__slug=slug, status="ready").first()
