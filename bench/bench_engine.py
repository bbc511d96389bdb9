"""Engine throughput: products classified per second in one process with a 500-rule pack.

Prints, from the same run: the pack-only evaluator (``rulepacks.evaluate.run_pack``, the floor
the engine builds on), the engine without search (target ≥ 2,000 products/s), the engine with a
2,000-decision precedent index, and the engine with nomenclature search over the loaded schedule,
its precedents compared by words, then by meaning (the transformer, or the static vectors where it
cannot run: ``classification.precedents.meaning``).
"""

import os
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")

import django

django.setup()

from threadpoolctl import threadpool_limits  # noqa: E402

from classification.engine import Precedent, PrecedentIndex, classify  # noqa: E402
from classification.precedents import meaning  # noqa: E402
from rulepacks.evaluate import run_pack  # noqa: E402
from rulepacks.format import parse  # noqa: E402
from tariffs import lexicon as tariff_lexicon  # noqa: E402
from tariffs import reference as tariff_reference  # noqa: E402


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


TARGET = 2000
RULES = 500
PRODUCTS = 4000
NOUNS = _words(
    "sweater shirt jacket trouser glove sock scarf blanket towel curtain carpet lamp kettle "
    "toaster blender drill saw hammer wrench knife spoon fork ladle pan pot bottle cup plate "
    "bowl chair table desk shelf cabinet bed mattress pillow toy doll puzzle ball racket bicycle "
    "helmet battery charger cable adapter speaker headphone camera watch clock phone tablet "
    "printer router keyboard mouse monitor valve pump filter hose fitting bolt screw nut washer"
)
ADJECTIVES = _words(
    "knitted woven printed insulated cordless electric manual portable folding adjustable "
    "waterproof rechargeable stainless decorative industrial kitchen garden outdoor children"
)
MATERIALS = _words(
    "cotton polyester wool nylon leather steel aluminium copper plastic rubber glass wood "
    "bamboo paper ceramic silicone"
)


def generated_pack(codes: list[str], rng: random.Random):
    """A pack of ``RULES`` rules (two text terms, two materials each), 20 restrictions, 1 denial."""
    out = [
        '[pack]\nname = "Bench pack"\njurisdiction = "US"\nversion = "1"\n',
        "[thresholds]\nmin_confidence = 0.82\ntie_margin = 0.05\n",
    ]
    for i in range(RULES):
        first, second = rng.sample(NOUNS, 2)
        out.append(
            f'[[rules]]\nid = "r{i}"\ncode = "{rng.choice(codes)}"\n'
            f'confidence = {rng.choice((0.75, 0.85, 0.9, 0.95))}\nrisk = "low"\n'
            f'rationale = "Generated rule {i}."\n[rules.when]\n'
            f'text = {{ any = ["{first}", "{rng.choice(ADJECTIVES)} {second}"], '
            f'none = ["{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"] }}\n'
            f'materials = ["{rng.choice(MATERIALS)}", "{rng.choice(MATERIALS)}"]\n'
        )
    for i in range(20):
        out.append(
            f'[[restrictions]]\nid = "x{i}"\naction = "review"\nrisk = "medium"\n'
            f'reason = "Generated restriction {i}."\n[restrictions.when]\n'
            f'text = ["{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"]\n'
        )
    out.append(
        '[[denied]]\nid = "d0"\nreason = "Generated denied good."\n[denied.when]\n'
        'materials = ["ivory"]\n'
    )
    result = parse("\n".join(out))
    if result.pack is None or result.problems:
        raise SystemExit(f"generated pack does not parse: {result.problems[:3]}")
    return result.pack


def products(rng: random.Random, count: int = PRODUCTS) -> list[dict]:
    out = []
    for i in range(count):
        noun = rng.choice(NOUNS)
        words = [rng.choice(ADJECTIVES), rng.choice(ADJECTIVES), noun, "with", rng.choice(NOUNS)]
        out.append(
            {
                "sku": f"B-{i}",
                "name": f"{words[1]} {noun}".title(),
                "description": " ".join(words),
                "country_of_origin": rng.choice(("CN", "VN", "MX", "DE", "IN")),
                "materials": rng.sample(MATERIALS, 2),
                "intended_use": "household use",
                "product_type": noun,
                "destination": "US",
                "customs_value": str(rng.randint(50, 50000)),
                "currency": "USD",
                "quantity": str(rng.randint(1, 500)),
                "quantity_unit": "pcs",
                "net_weight_kg": str(rng.randint(1, 900)),
                "supplier": None,
                "declared_code": None,
                "notes": None,
            }
        )
    return out


def rate(label: str, items: list[dict], fn, batches: int = 4) -> float:
    """Print CPU throughput (best and median of ``batches`` batches, as ``timeit`` takes the best
    run to see past other load on a shared machine) and wall-clock; return the best CPU figure."""
    size = max(1, len(items) // batches)
    cpu_rates, wall = [], time.perf_counter()
    for start in range(0, size * batches, size):
        cpu = time.process_time()
        for facts in items[start : start + size]:
            fn(facts)
        cpu_rates.append(size / max(time.process_time() - cpu, 1e-9))
    wall = size * batches / (time.perf_counter() - wall)
    best, median = max(cpu_rates), statistics.median(cpu_rates)
    print(
        f"  {label:<44} best {best:7,.0f}/s  median {median:7,.0f}/s CPU"
        f"  {wall:7,.0f}/s wall  ({size * batches:,} products)"
    )
    return best


def percentiles(items, pack, reference, index, lexicon) -> None:
    """Print the engine's time per product (search, meaning, lexicon, precedents included)."""
    times = []
    for facts in items:
        start = time.perf_counter()
        classify(facts, pack=pack, reference=reference, precedents=index, lexicon=lexicon)
        times.append(time.perf_counter() - start)
    times.sort()
    p50, p95 = times[len(times) // 2], times[int(len(times) * 0.95)]
    print(
        f"  engine per product, everything included: p50 {p50 * 1000:.2f} ms, "
        f"p95 {p95 * 1000:.2f} ms"
    )


def main() -> None:
    rng = random.Random(6)
    reference = tariff_reference.get_reference("US")
    if reference is None:
        raise SystemExit("no tariff reference loaded (run migrate; load a US schedule for search)")
    codes = sorted(line.code for line in reference.lines() if line.declarable)
    pack = generated_pack(codes, rng)
    items = products(rng)
    precedents = [
        Precedent(i, f"P-{i}", f"{i:x}", p["description"], rng.choice(codes), "bench", "2026-01-01")
        for i, p in enumerate(products(random.Random(7), 2000))
    ]
    index = PrecedentIndex(precedents)
    print(
        f"Engine benchmark: {RULES}-rule pack, reference {reference.jurisdiction} "
        f"{reference.revision} ({len(codes):,} declarable lines), one process"
    )
    for facts in items[:200]:  # warm the caches (tokeniser, flags) as a long-lived worker has
        classify(facts, pack=pack, reference=reference, search=False)
    rate("floor: pack-only evaluator (run_pack)", items, lambda f: run_pack(pack, f, reference))
    got = rate(
        "engine, search excluded",
        items,
        lambda f: classify(f, pack=pack, reference=reference, search=False),
    )
    rate(
        "engine, search excluded, 2,000 precedents",
        items,
        lambda f: classify(f, pack=pack, reference=reference, precedents=index, search=False),
    )
    # Workers run one BLAS thread each (classification.runner); so does this measurement.
    limit = threadpool_limits(limits=1, user_api="blas")
    reference.search("warm up the search index")
    _, semantic = reference.semantic(wait=True)
    lexicon = tariff_lexicon.get_lexicon()
    print(f"  semantic search: {semantic or 'on'}; lexicon: {'on' if lexicon else 'not loaded'}")
    rate(
        "engine, search included, 2,000 precedents",
        items[:1000],
        lambda f: classify(f, pack=pack, reference=reference, precedents=index, lexicon=lexicon),
    )
    percentiles(items[:1000], pack, reference, index, lexicon)
    found = meaning("US")
    if not found:
        print("  precedents by meaning: no vectors available here; skipped")
    else:
        start = time.perf_counter()
        texts = [replace(p, text=p.description) for p in precedents]
        by_meaning = PrecedentIndex(texts, **found)
        took = time.perf_counter() - start
        screen = f", screened by {found['screen_space']}" if "screen" in found else ""
        print(
            f"  precedents by meaning: {found['space']} (≥ {found['meaning_min']}{screen}); "
            f"2,000 embedded in {took:.1f} s"
        )
        rate(
            "engine, search included, 2,000 precedents by meaning",
            items[:1000],
            lambda f: classify(
                f, pack=pack, reference=reference, precedents=by_meaning, lexicon=lexicon
            ),
        )
        percentiles(items[:1000], pack, reference, by_meaning, lexicon)
    limit.restore_original_limits()
    outcomes = Counter(
        classify(f, pack=pack, reference=reference, search=False).outcome for f in items[:1000]
    )
    print("  outcome mix (search excluded): " + ", ".join(f"{k} {v}" for k, v in outcomes.items()))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    verdict = "meets" if got >= TARGET else "MISSES"
    print(f"Load average {load} on {os.cpu_count()} cores: CPU time is the fairer figure.")
    print(f"Target ≥ {TARGET:,} products/s with search excluded (best CPU): {verdict} ({got:,.0f})")


if __name__ == "__main__":
    main()
