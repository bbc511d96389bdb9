"""``classification_eval --learn-fraction``: finalized cases teach the engine, and nothing stays.

The learning run goes through the real precedent path (products, a catalog classification run,
decisions, broker overrides, ``precedents_for``) in a scratch tenant that is rolled back, so
these tests use a real (tiny) schedule loaded through the tariffs service, never a fake.
"""

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError

from audit.models import AuditEvent
from catalog.models import Product
from classification.engine import evaluation
from classification.models import Decision, ReviewAction, ReviewState
from classification.review import services as review_services
from rulepacks.models import RulePack
from tariffs import reference as tariff_reference
from tests.classification import test_eval_command
from tests.classification.review.conftest import make_decision  # noqa: F401
from tests.rulepacks.conftest import lead, make_pack, us_schedule  # noqa: F401
from workbench.models import Tenant
from workbench.roles import Role

HEADER = "id,name,description,materials,intended_use,product_type,country_of_origin,expected_code"
# Made-up goods whose words appear nowhere in the schedule, so search alone cannot place them;
# each description repeats, so what a broker finalized on one side of the split recurs on the
# other. The schedule is tests.rulepacks.conftest.SCHEDULE.
GOODS = (
    ("Zorblax gizmo, model Z", "8211.92.20.00"),
    ("Quuxite doohickey kit", "9503.00.00.73"),
    ("Frobnitz wrapper, grey", "4303.10.00.60"),
)
CASES = (
    HEADER
    + "\n"
    + "".join(
        f'g{i}-{k},,"{description}",,,,CN,{code}\n'
        for i, (description, code) in enumerate(GOODS)
        for k in range(4)
    )
)


@pytest.fixture
def reference(request):
    """The tiny schedule as the engine sees it; cached references forgotten before and after."""
    request.getfixturevalue("us_schedule")
    tariff_reference.clear_cache()
    yield tariff_reference.get_reference("US")
    tariff_reference.clear_cache()


def run(tmp_path, *args, text=CASES) -> str:
    return test_eval_command.run(tmp_path, text, *args)


def counts() -> dict:
    return {
        "tenants": Tenant.objects.count(),
        "users": get_user_model().objects.count(),
        "products": Product.objects.count(),
        "decisions": Decision.objects.count(),
        "review_states": ReviewState.objects.count(),
        "review_actions": ReviewAction.objects.count(),
        "audit_events": AuditEvent.objects.count(),
    }


def test_the_split_is_reproducible_by_seed_and_keeps_both_sides():
    cases = evaluation.read_cases(CASES, jurisdiction="US")
    learned, rest = evaluation.split(cases, fraction=0.25, seed=7)
    again, _ = evaluation.split(cases, fraction=0.25, seed=7)
    other, _ = evaluation.split(cases, fraction=0.25, seed=8)
    assert [c.id for c in learned] == [c.id for c in again] != [c.id for c in other]
    assert len(learned) == 3 and len(rest) == 9
    assert {c.id for c in learned}.isdisjoint(c.id for c in rest)
    tiny, tail = evaluation.split(cases[:2], fraction=0.01, seed=1)
    assert len(tiny) == len(tail) == 1


def test_finalized_cases_teach_the_engine_and_the_baseline_is_reported(tmp_path, reference):
    data = json.loads(run(tmp_path, "--learn-fraction", "0.5", "--seed", "3", "--json"))
    assert data["learned"] == {
        "fraction": 0.5,
        "seed": 3,
        "finalized": 6,
        "evaluated": 6,
        "not_learned_no_declarable_line": 0,
    }
    assert data["cases"] == data["baseline"]["cases"] == 6
    # Search cannot place made-up goods; the broker's decisions on the same goods can.
    assert data["baseline"]["accuracy"]["6"] < 0.5
    assert data["accuracy"]["6"] == data["accuracy"]["full"] == 1.0
    for figures in (data, data["baseline"]):
        assert {"recall_hs6_top5", "recall_hs6_top10", "classified_share", "ece"} <= set(figures)
    assert "learning from 6 finalized cases (fraction 0.5, seed 3)" in data["mode"]


def test_learning_leaves_the_tenants_data_untouched(tmp_path, request, cast):
    request.getfixturevalue("make_pack")(stage="active")
    # a real precedent of the tenant, finalized by its broker
    real = request.getfixturevalue("make_decision")()
    review_services.review_accept(actor=cast.users[Role.BROKER], state=real, version=1)
    tariff_reference.clear_cache()
    before = counts()
    packs = list(RulePack.objects.values_list("pk", "status", "sha256"))

    text = run(tmp_path, "--tenant", cast.tenant.slug, "--learn-fraction", "0.5", "--seed", "3")

    assert counts() == before
    assert list(RulePack.objects.values_list("pk", "status", "sha256")) == packs
    assert "mode: pack Test pack v1" in text
    assert "Baseline (the same cases, no precedents):" in text
    assert "Learned: 6 of 6 drawn cases finalized as broker decisions" in text
    assert not Tenant.objects.filter(slug__startswith="eval-").exists()
    tariff_reference.clear_cache()


def test_a_case_without_a_declarable_line_is_not_learned_and_is_counted(tmp_path, reference):
    # 6109.10.00.99 is not a line: its 6 digits hold the declarable 6109.10.00.12, which is
    # filed instead. 7323.93 has no line at all: that case cannot be finalized.
    text = (
        CASES + "odd1,,Snorkwax tunic,,,,CN,6109.10.00.99\nodd2,,Blivet pan,,,,CN,7323.93.00.80\n"
    )
    cases = evaluation.read_cases(text, jurisdiction="US")
    assert evaluation.learning_code(cases[-2], reference) == "6109100012"
    assert evaluation.learning_code(cases[-1], reference) is None
    learn, _ = evaluation.split(cases, fraction=0.5, seed=1)
    skipped = sum(1 for c in learn if evaluation.learning_code(c, reference) is None)
    data = json.loads(run(tmp_path, "--learn-fraction", "0.5", "--json", text=text))
    assert data["learned"]["seed"] == 1  # the default
    assert data["learned"]["not_learned_no_declarable_line"] == skipped
    assert data["learned"]["finalized"] == len(learn) - skipped


@pytest.mark.parametrize("fraction", ["0", "1", "1.5", "-0.2"])
def test_a_learning_fraction_outside_0_and_1_is_refused(tmp_path, db, fraction):
    with pytest.raises(
        CommandError, match="--learn-fraction must be greater than 0 and less than 1"
    ):
        run(tmp_path, "--learn-fraction", fraction)


def test_a_seed_without_a_learning_fraction_is_refused(tmp_path, db):
    with pytest.raises(CommandError, match="--seed needs --learn-fraction"):
        run(tmp_path, "--seed", "3")


def test_learning_needs_two_cases(tmp_path, reference):
    with pytest.raises(CommandError, match="at least two cases"):
        run(tmp_path, "--learn-fraction", "0.5", "--limit", "1")
