"""Search-and-precedents accuracy of the engine on the ATLAS development set (400 CBP rulings),
and how much it learns from a broker's finalized decisions.

Runs ``classification_eval`` on
``../shared/data/labelled_cross_rulings_atlas_test_validation_400.csv`` against the loaded US
schedule and prints its figures beside the published baselines for the same rows, then a
learning curve: with 10, 25 and 50 % of the rulings finalized as broker decisions (seeds 1-3),
HS6 top-1 on the rest against the same rows without precedents; and the UK everyday terms as a
second held-out set (lexicon off). Every command it runs is printed.
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
SEEDS = (1, 2, 3)
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
    everyday_terms()
    print()
    learning_curve(args)


def learning_curve(args: list[str]) -> None:
    """Print HS6 top-1 on the rest with and without the finalized share's precedents, for each
    seed and their mean (one split holds 40 to 200 evaluated rows: one ruling is 0.5 to 2.5 pt)."""
    rows = []
    for fraction in FRACTIONS:
        for seed in SEEDS:
            learn = [*args, "--learn-fraction", f"{fraction:g}", "--seed", str(seed), "--json"]
            print("$ manage.py classification_eval " + " ".join(learn))
            out = io.StringIO()
            start = time.perf_counter()
            call_command("classification_eval", *learn, stdout=out)
            data = json.loads(out.getvalue())
            rows.append((fraction, seed, data, time.perf_counter() - start))
    print()
    print("Learning curve (HS6 top-1 and top-5 recall on the rows not finalized):")
    print(" share seed  evaluated   HS6@1 learned  baseline      gain   top-5 learned  baseline")
    for fraction, seed, data, seconds in rows:
        base, learned = data["baseline"], data["learned"]
        gain = 100 * (data["accuracy"]["6"] - base["accuracy"]["6"])
        print(
            f" {fraction:5.0%} {seed:4d}  {learned['evaluated']:9d}"
            f"   {100 * data['accuracy']['6']:11.1f} %  {100 * base['accuracy']['6']:6.1f} %"
            f"  {gain:+5.1f} pt   {100 * data['recall_hs6_top5']:11.1f} %"
            f"  {100 * base['recall_hs6_top5']:6.1f} %   ({seconds:.1f} s)"
        )
    for fraction in FRACTIONS:
        runs = [d for f, _, d, _ in rows if f == fraction]
        gain = sum(d["accuracy"]["6"] - d["baseline"]["accuracy"]["6"] for d in runs) / len(runs)
        print(f" {fraction:5.0%} mean gain over seeds {SEEDS}: {100 * gain:+.1f} pt")


def everyday_terms() -> None:
    """The UK everyday terms as a second held-out set: each term alone as a product's
    description, ranked with the lexicon off (those terms *are* the lexicon), scored against the
    heading (HS4) and subheading (HS6) it names."""
    from classification import engine
    from tariffs import lexicon as tariff_lexicon

    lexicon = tariff_lexicon.get_lexicon()
    if lexicon is None:
        print("UK everyday terms: skipped, no lexicon loaded (manage.py tariffs_load_lexicon)")
        return
    reference = tariff_reference.get_reference("US")
    cases = []
    for entry in lexicon.entries():
        headings = {c[:4] for c in entry.codes if len(c) >= 4}
        if headings and not entry.too_generic:
            cases.append((entry.term, headings, {c[:6] for c in entry.codes if len(c) >= 6}))
    hs4 = top5 = hs6 = with_hs6 = 0
    start = time.perf_counter()
    for term, headings, subheadings in cases:
        facts = {"description": term}
        decision = engine.classify(facts, pack=None, reference=reference, rank_without_pack=True)
        codes = [c.code for c in decision.candidates]
        first = list(dict.fromkeys(c[:4] for c in codes))[:5]
        hs4 += bool(codes) and codes[0][:4] in headings
        top5 += any(h in headings for h in first)
        if subheadings:
            with_hs6 += 1
            hs6 += bool(codes) and codes[0][:6] in subheadings
    n = len(cases) or 1
    print(
        f"UK everyday terms, lexicon off ({len(cases):,} terms, {with_hs6:,} with an HS6): "
        f"HS4@1 {100 * hs4 / n:.1f} %, HS4 in the first 5 headings {100 * top5 / n:.1f} %, "
        f"HS6@1 {100 * hs6 / (with_hs6 or 1):.1f} %  ({time.perf_counter() - start:.0f} s)"
    )


if __name__ == "__main__":
    main()
