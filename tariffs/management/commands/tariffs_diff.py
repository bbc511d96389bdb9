"""Print the codes added, removed, split and re-rated between two schedule revisions."""

from django.core.management.base import BaseCommand, CommandError

from tariffs import codes, selectors


class Command(BaseCommand):
    help = "Compare two revisions of a schedule: codes added, removed, split and re-rated."

    def add_arguments(self, parser):
        parser.add_argument("--jurisdiction", default="US")
        parser.add_argument("--from", dest="from_revision", required=True)
        parser.add_argument("--to", dest="to_revision", required=True)
        parser.add_argument("--limit", type=int, default=0, help="Show at most N rows per section.")

    def handle(self, *args, **options):
        diff = selectors.schedule_diff(
            options["jurisdiction"], options["from_revision"], options["to_revision"]
        )
        if diff is None:
            known = ", ".join(
                s.revision
                for s in selectors.schedules().filter(jurisdiction=options["jurisdiction"].upper())
            )
            raise CommandError(
                f"unknown revision; loaded {options['jurisdiction']} revisions: {known or 'none'}"
            )
        limit = options["limit"] or None
        out = self.stdout
        out.write(
            f"{diff.jurisdiction} {diff.from_revision} → {diff.to_revision}: "
            + ", ".join(f"{n} {k}" for k, n in diff.counts.items())
        )
        out.write("\nAdded:")
        for code, desc in diff.added[:limit]:
            out.write(f"  + {codes.fmt(code):<14} {desc[-90:]}")
        out.write("\nRemoved (no successor under the same parent):")
        for code, desc in diff.removed[:limit]:
            out.write(f"  - {codes.fmt(code):<14} {desc[-90:]}")
        out.write("\nSplit:")
        for code, successors in diff.split[:limit]:
            out.write(f"  ⑂ {codes.fmt(code):<14} → {', '.join(codes.fmt(c) for c in successors)}")
        out.write("\nRe-rated (general rate):")
        for code, old, new in diff.rerated[:limit]:
            out.write(f"  ~ {codes.fmt(code):<14} {old or '—'} → {new or '—'}")
