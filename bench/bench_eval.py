"""Search-and-precedents accuracy of the engine on the ATLAS development set (400 CBP rulings).

Runs ``classification_eval`` on
``../shared/data/labelled_cross_rulings_atlas_test_validation_400.csv`` against the loaded US
schedule and prints its figures beside the published baselines for the same rows. Skips with a
message when the file or a US schedule is absent.
"""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from tariffs import reference as tariff_reference  # noqa: E402

CASES = (
    Path(os.environ.get("WORKBENCH_SHARED_DATA", ROOT.parent / "shared" / "data"))
    / "labelled_cross_rulings_atlas_test_validation_400.csv"
)
BASELINES = (
    "Published on these rows (HS6 top-1 / top-5): TF-IDF ≈ 13 % / 24 %; "
    "all-MiniLM-L6-v2 ≈ 20 % / 43 %; fine-tuned 70B LLM 57.5 % (top-1)."
)


def main() -> None:
    if not CASES.exists():
        print(f"skipped: {CASES} is absent (the ATLAS development set lives in ../shared/data)")
        return
    reference = tariff_reference.get_reference("US")
    if reference is None or not reference.national:
        print(
            "skipped: no US schedule is loaded; run "
            "`manage.py tariffs_load_usitc ../shared/data/us_htsus_2026_rev4_usitc_export.csv "
            "--effective-date 2026-01-01` first"
        )
        return
    start = time.perf_counter()
    call_command("classification_eval", "--cases", str(CASES), "--jurisdiction", "US")
    print(f"({time.perf_counter() - start:.1f} s including the search index build)")
    print(BASELINES)


if __name__ == "__main__":
    main()
