"""Rule-pack evaluation speed: the demo US pack over its cases and a synthetic catalogue.

Prints per-product p50 / p99 of the pack-only path (rules, restrictions, denied goods, routing)
beside two figures measured in the same run on the same products:
- floor: folding the product's texts into words (work any matcher must do);
- peer: naive lower-case substring search for every term (no word boundaries, no plurals).
The activation gate's budget is p99 ≤ 5 ms per product. Pure Python: no database needed.

With ``--backtest N`` it also times a backtest of N cases the way production classifies them
(``rulepacks.selectors.classify_cases``: pack + precedents + search, once for the draft and once
for the active pack) against the pack-only path, on a seeded database (``make seed``; the
tenant's active US pack stands in for both):

    .venv/bin/python bench/bench_rulepacks.py [--products 20000]
    DEBUG=1 .venv/bin/python bench/bench_rulepacks.py --products 0 --backtest 3000 [--tenant acme]
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rulepacks import cases
from rulepacks.backtest import golden_cases, percentile
from rulepacks.evaluate import run_pack
from rulepacks.format import parse
from rulepacks.format.normalize import tokens

DEMO = Path(__file__).resolve().parents[1] / "rulepacks" / "demo_data"


def timed(fn, items, repeats=1) -> list[float]:
    """Per-item milliseconds: the fastest of ``repeats`` runs (the gate uses 3)."""
    out = []
    for item in items:
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            fn(item)
            best = min(best, (time.perf_counter() - start) * 1000)
        out.append(best)
    return out


def synthetic(facts_pool, n, seed=7):
    """Products made by recombining real names, descriptions and materials (unique texts)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        a, b, c = rng.choice(facts_pool), rng.choice(facts_pool), rng.choice(facts_pool)
        out.append(
            {
                **a,
                "sku": f"SYN-{i}",
                "name": f"{a['name']} {i}",
                "description": f"{b['description']} {c['name']} batch {i}",
                "materials": list(dict.fromkeys(a["materials"] + c["materials"])),
            }
        )
    return out


def texts(facts):
    return [facts["name"] or "", facts["description"] or "", *(facts["materials"] or [])]


def production(n: int, slug: str, real: list[dict]) -> None:
    """Time a backtest of ``n`` synthetic cases (plus the tenant's decisions) both ways."""
    import os
    from types import MappingProxyType

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
    django.setup()
    from rulepacks import backtest, deps, selectors
    from workbench.models import Tenant

    tenant = Tenant.objects.get(slug=slug)
    row, pack = selectors.active_compiled(tenant, "US")
    reference = deps.reference("US")
    decisions = selectors.finalized_decision_cases(tenant, "US")
    cases = [
        backtest.Case(f"syn-{i}", "uploaded", MappingProxyType(f), "")
        for i, f in enumerate(synthetic(real, n, seed=11))
    ] + decisions
    print(
        f"\nbacktest of {len(cases)} cases ({len(decisions)} finalized decisions), pack #{row.pk}"
    )
    start = time.perf_counter()
    selectors.classify_cases(tenant, "US", [pack], cases[:20])
    print(f"  warm-up (schedule search and meaning loaded): {time.perf_counter() - start:6.2f} s")
    runs = (
        ("pack only (before)", lambda: backtest.run_backtest(pack, cases, reference)),
        ("production, draft only", lambda: selectors.classify_cases(tenant, "US", [pack], cases)),
        (
            "production, draft + active apart",
            lambda: [selectors.classify_cases(tenant, "US", [p], cases) for p in (pack, pack)],
        ),
        (
            "production, draft + active together",
            lambda: selectors.classify_cases(tenant, "US", [pack, pack], cases),
        ),
    )
    for label, run in runs:
        start = time.perf_counter()
        run()
        seconds = time.perf_counter() - start
        print(f"  {label:36} {seconds:7.2f} s  {seconds * 1000 / len(cases):6.2f} ms per case")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=20000)
    parser.add_argument("--backtest", type=int, default=0)
    parser.add_argument("--tenant", default="acme")
    args = parser.parse_args()

    source = (DEMO / "us-demo.toml").read_text()
    start = time.perf_counter()
    for _ in range(20):
        result = parse(source)
    parse_ms = (time.perf_counter() - start) * 1000 / 20
    pack = result.pack
    backtest = cases.parse_cases(
        "us-backtest.toml", (DEMO / "us-backtest.toml").read_bytes(), jurisdiction="US"
    )
    real = [dict(c.facts) for c in golden_cases(pack) + backtest]
    products = synthetic(real, args.products)
    terms = [t.text.lower() for r in pack.rules for c in r.when.text for t in c.terms]

    def floor(facts):
        tokens.cache_clear()  # measure the folding itself, not the cache
        for text in texts(facts):
            tokens(text)

    def peer(facts):
        blob = " ".join(texts(facts)).lower()
        return [t for t in terms if t in blob]

    def ours(facts):
        tokens.cache_clear()  # no help from texts seen before: every run folds afresh
        return run_pack(pack, facts, None)

    print(
        f"demo pack: {len(pack.rules)} rules, {len(pack.restrictions)} restrictions, "
        f"{len(pack.denied)} denied goods, {len(terms)} rule terms; parse+compile "
        f"{parse_ms:.2f} ms"
    )
    ours(real[0])  # build the pack's term sets once, as a worker would
    for label, items in (("golden+backtest cases", real), ("synthetic products", products)):
        for repeats in (1, 3):
            tokens.cache_clear()
            rows = (
                ("pack-only path", timed(ours, items, repeats)),
                ("floor: fold texts", timed(floor, items, repeats)),
                ("peer: naive substring", timed(peer, items, repeats)),
            )
            how = "single run" if repeats == 1 else f"fastest of {repeats} runs, as the gate"
            print(f"\n{label} (n={len(items)}), ms per product, {how}")
            for name, values in rows:
                print(
                    f"  {name:24} p50 {statistics.median(values):7.3f}   "
                    f"p99 {percentile(values, 99):7.3f}   max {max(values):7.3f}"
                )
    print("\nbudget: p99 <= 5 ms per product (runtime-safety gate)")
    if args.backtest:
        production(args.backtest, args.tenant, real)


if __name__ == "__main__":
    main()
