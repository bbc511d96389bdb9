"""The rule prefilter only skips entries that cannot match: evaluation results are identical."""

import random

from classification.engine.prefilter import rule_index
from rulepacks.evaluate import evaluate
from rulepacks.format import parse
from tests.classification.engine.fakes import facts

WORDS = [
    "knit",
    "cotton",
    "sweater",
    "shirt",
    "steel",
    "knife",
    "battery",
    "lithium",
    "toy",
    "plush",
    "glass",
    "cup",
    "wool",
]


def random_pack(rng: random.Random):
    out = ['[pack]\nname = "P"\njurisdiction = "US"\nversion = "1"\n']
    for i in range(80):
        a, b, c = rng.sample(WORDS, 3)
        kind = i % 5
        if kind == 0:
            when = f'text = {{ any = ["{a}", "{b} {c}"] }}\nmaterials = ["{c}"]'
        elif kind == 1:
            when = f'text = {{ all = ["{a}", "{b}"], none = ["{c}"] }}'
        elif kind == 2:
            when = 'origin = ["VN", "CN"]'  # no text trigger: always evaluated
        elif kind == 3:
            when = f'description = ["{a} {b}"]\nintended_use = ["{c}"]'
        else:
            when = f'name = {{ any = ["{a}"] }}\nvalue = {{ min = 10, currency = "USD" }}'
        out.append(
            f'[[rules]]\nid = "r{i}"\ncode = "61{i:08d}"\nconfidence = 0.9\nrisk = "low"\n'
            f'rationale = "r"\n[rules.when]\n{when}\n'
        )
    for i in range(10):
        a, b = rng.sample(WORDS, 2)
        out.append(
            f'[[restrictions]]\nid = "x{i}"\naction = "review"\nrisk = "medium"\nreason = "x"\n'
            f'[restrictions.when]\ntext = ["{a} {b}"]\n'
        )
    out.append('[[denied]]\nid = "d"\nreason = "d"\n[denied.when]\nmaterials = ["wool"]\n')
    result = parse("\n".join(out))
    assert result.ok, result.problems
    return result.pack


def test_evaluating_the_prefiltered_pack_gives_the_same_matches_as_the_whole_pack():
    rng = random.Random(11)
    pack = random_pack(rng)
    index = rule_index(pack)
    matched = skipped = 0
    for _ in range(300):
        product = facts(
            " ".join(rng.choices(WORDS, k=rng.randint(2, 7))),
            name=" ".join(rng.choices(WORDS, k=2)),
            materials=rng.sample(WORDS, 2),
            intended_use=" ".join(rng.choices(WORDS, k=2)),
            country_of_origin=rng.choice(["CN", "DE"]),
            customs_value=rng.choice([None, "5", "50"]),
            currency="USD",
        )
        narrowed = index.candidate_pack(product)
        result = evaluate(narrowed, product)
        assert result == evaluate(pack, product)
        matched += bool(result.matches and result.restrictions)
        skipped += len(pack.rules) - len(narrowed.rules)
    assert matched > 30  # the comparison covers real matches and restrictions
    assert skipped > 300 * 20  # and the index really narrows the pack


def test_the_index_is_built_once_per_pack():
    pack = random_pack(random.Random(3))
    assert rule_index(pack) is rule_index(pack)
