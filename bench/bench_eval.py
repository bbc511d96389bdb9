"""Search-and-precedents accuracy of the engine on the ATLAS development set (400 CBP rulings),
and how much it learns from a broker's finalized decisions.

Runs ``classification_eval`` on
``../shared/data/labelled_cross_rulings_atlas_test_validation_400.csv`` against the loaded US
schedule and prints its figures beside the published baselines for the same rows, then a
learning curve: with 10, 25 and 50 % of the rulings finalized as broker decisions (seed 1), HS6
top-1 on the rest against the same rows without precedents. Every command it runs is printed.
Skips with a message when the file or a US schedule is absent.
"""

import io
import json
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
FRACTIONS = (0.10, 0.25, 0.50)
SEED = 1
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
    args = ["--cases", str(CASES), "--jurisdiction", "US"]
    print("$ manage.py classification_eval " + " ".join(args))
    start = time.perf_counter()
    call_command("classification_eval", *args)
    print(f"({time.perf_counter() - start:.1f} s including the search index build)")
    print(BASELINES)
    print()
    learning_curve(args)


def learning_curve(args: list[str]) -> None:
    """Print HS6 top-1 on the rest with and without the finalized share's precedents."""
    rows = []
    for fraction in FRACTIONS:
        learn = [*args, "--learn-fraction", f"{fraction:g}", "--seed", str(SEED), "--json"]
        print("$ manage.py classification_eval " + " ".join(learn))
        out = io.StringIO()
        start = time.perf_counter()
        call_command("classification_eval", *learn, stdout=out)
        data = json.loads(out.getvalue())
        rows.append((fraction, data, time.perf_counter() - start))
    print()
    print("Learning curve (HS6 top-1 and top-5 recall on the rows not finalized; seed 1):")
    print(
        " share finalized  evaluated   HS6@1 learned  baseline      gain   top-5 learned  baseline"
    )
    for fraction, data, seconds in rows:
        base, learned = data["baseline"], data["learned"]
        gain = 100 * (data["accuracy"]["6"] - base["accuracy"]["6"])
        print(
            f" {fraction:5.0%} {learned['finalized']:9d}  {learned['evaluated']:9d}"
            f"   {100 * data['accuracy']['6']:11.1f} %  {100 * base['accuracy']['6']:6.1f} %"
            f"  {gain:+5.1f} pt   {100 * data['recall_hs6_top5']:11.1f} %"
            f"  {100 * base['recall_hs6_top5']:6.1f} %   ({seconds:.1f} s)"
        )


if __name__ == "__main__":
    main()
