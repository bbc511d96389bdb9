"""Draft → validated → backtested → active → retired, through the real services and schedule."""

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from rulepacks import selectors, services
from rulepacks.models import RulePack
from tests.rulepacks.conftest import SCHEDULE, cases_toml, load_schedule, real_pack_source
from tests.rulepacks.fakes import GOLDEN, golden_toml

pytestmark = pytest.mark.django_db


def verbs(pack):
    return list(
        AuditEvent.objects.filter(target_type="rulepacks.rulepack", target_id=str(pack.pk))
        .order_by("seq")
        .values_list("verb", flat=True)
    )


def test_a_good_pack_goes_from_draft_to_active_with_an_audit_trail(make_pack, us_schedule):
    pack = make_pack(stage="active")
    assert pack.status == "active"
    assert pack.schedule_revision == us_schedule.revision
    assert pack.gates_passed and pack.backtest_passed
    assert pack.backtest_report["cases_total"] == 22
    assert pack.backtest_report["sources"] == {"golden": 10, "uploaded": 12}
    assert pack.min_confidence == 0.82 and pack.version == "1"
    assert verbs(pack) == [
        "rulepacks.rulepack.created",
        "rulepacks.rulepack.cases_uploaded",
        "rulepacks.rulepack.validated",
        "rulepacks.rulepack.backtested",
        "rulepacks.rulepack.activated",
    ]
    assert selectors.active_compiled(pack.tenant, "US")[1].sha256 == pack.sha256


def test_validation_pins_the_schedule_and_names_undeclarable_codes(make_pack):
    source = real_pack_source().replace('code = "9503000073"', 'code = "9503000099"', 1)
    pack = make_pack(source, stage="validated")
    assert pack.status == "failed"
    validity = next(g for g in pack.gate_report["gates"] if g["key"] == "validity")
    assert validity["status"] == "fail"
    message = validity["problems"][0]["message"]
    assert message.startswith('rule "toys": code 9503000099:')
    assert "2026 Rev 4 (test)" in message
    line = pack.source.splitlines()[validity["problems"][0]["line"] - 1]
    assert line == "[[rules]]"


def test_activating_a_pack_retires_the_previous_one(make_pack, lead):
    first = make_pack(stage="active")
    second = make_pack(real_pack_source().replace('version = "1"', 'version = "2"'), stage="active")
    first.refresh_from_db()
    assert (first.status, second.status) == ("retired", "active")
    assert first.retired_by == lead and first.retired_at == second.activated_at
    assert first.sha256 and first.source  # still readable, with its hash
    assert verbs(first)[-1] == "rulepacks.rulepack.retired"
    assert RulePack.objects.filter(tenant=first.tenant, status="active").count() == 1


def test_a_pack_with_nine_golden_cases_cannot_be_activated(make_pack, lead):
    pack = make_pack(real_pack_source(golden=golden_toml(GOLDEN[:9])), stage="validated")
    assert pack.status == "failed"
    with pytest.raises(ValidationError) as err:
        services.rulepack_activate(actor=lead, pack=pack)
    assert "only a validated pack can be activated" in str(err.value)
    with pytest.raises(ValidationError, match="Validate the pack"):
        services.rulepack_backtest(actor=lead, pack=pack)


def test_a_pack_failing_the_backtest_cannot_be_activated(make_pack, lead):
    pack = make_pack(stage="backtested", cases=5)  # 15 cases in all: below the 20 required
    assert pack.status == "validated" and not pack.backtest_report["passed"]
    with pytest.raises(ValidationError) as err:
        services.rulepack_activate(actor=lead, pack=pack)
    assert "Backtest: backtest cases is 15, needs ≥ 20." in err.value.messages
    pack.refresh_from_db()
    assert pack.status == "validated"
    assert not RulePack.objects.filter(status="active").exists()


def test_a_pack_must_be_backtested_before_activation(make_pack, lead):
    pack = make_pack(stage="validated")
    with pytest.raises(ValidationError) as err:
        services.rulepack_activate(actor=lead, pack=pack)
    assert err.value.messages == ["Run a backtest first."]


def test_a_new_schedule_revision_requires_validating_again(make_pack, lead):
    pack = make_pack(stage="backtested")
    extra = ("9503.00.00.90", 1, "Other", "")
    load_schedule(revision="2026 Rev 5 (test)", rows=[*SCHEDULE, extra], day=2)
    with pytest.raises(ValidationError) as err:
        services.rulepack_activate(actor=lead, pack=pack)
    assert "the current one is 2026 Rev 5 (test). Validate it again." in err.value.messages[0]


def test_editing_a_draft_resets_its_reports_and_an_active_pack_cannot_be_edited(make_pack, lead):
    pack = make_pack(stage="validated")
    edited = services.rulepack_update(
        actor=lead, pack=pack, source=pack.source.replace('version = "1"', 'version = "1b"')
    )
    assert (edited.status, edited.gate_report, edited.version) == ("draft", {}, "1b")
    active = make_pack(stage="active")
    with pytest.raises(ValidationError, match="read-only"):
        services.rulepack_update(actor=lead, pack=active, source=active.source + "\n")
    with pytest.raises(ValidationError, match="read-only"):
        services.rulepack_validate(actor=lead, pack=active)


def test_bad_backtest_uploads_are_refused_whole(make_pack, lead):
    pack = make_pack()
    bad = (
        b'[[cases]]\nid = "ok"\ncode = "6109100012"\n[cases.facts]\nname = "x"\n\n'
        b'[[cases]]\nid = "Bad Id"\ncode = "1"\n'
    )
    with pytest.raises(ValidationError) as err:
        services.rulepack_cases_upload(actor=lead, pack=pack, filename="c.toml", content=bad)
    assert any("line 7: id 'Bad Id'" in m for m in err.value.messages), err.value.messages
    pack.refresh_from_db()
    assert pack.backtest_cases == []


def test_an_empty_or_unknown_jurisdiction_draft_is_refused(cast, lead, us_schedule):
    with pytest.raises(ValidationError, match="empty"):
        services.rulepack_create(actor=lead, tenant=cast.tenant, jurisdiction="US", source=" ")
    with pytest.raises(ValidationError, match="Unknown jurisdiction"):
        services.rulepack_create(actor=lead, tenant=cast.tenant, jurisdiction="XX", source="x")


def import_products(tenant, actor, rows):
    import io

    from catalog import services as catalog_services

    header = (
        "SKU,Name,Description,Country of origin,Materials,Intended use,Product type,Destination"
    )
    text = "\n".join([header, *(",".join(r) for r in rows)])
    batch = catalog_services.import_batch_start(
        actor=actor,
        tenant=tenant,
        fileobj=io.BytesIO(text.encode()),
        filename="p.csv",
        background=False,
    )
    assert batch.new_count == len(rows), batch.__dict__
    return batch


def test_the_impact_preview_lists_products_whose_result_changes(make_pack, cast, lead):
    import_products(
        cast.tenant,
        lead,
        [
            [
                "TEE-1",
                "Men's tee",
                "Men's knitted cotton t-shirt crew neck",
                "BD",
                "cotton",
                "casual wear",
                "apparel",
                "US",
            ],
            [
                "TOY-1",
                "Plush bear",
                "Stuffed plush toy bear for children",
                "CN",
                "polyester",
                "play",
                "toys",
                "US",
            ],
            [
                "TEE-EU",
                "Men's tee",
                "Men's knitted cotton t-shirt crew neck",
                "BD",
                "cotton",
                "casual wear",
                "apparel",
                "EU",
            ],
        ],
    )
    active = make_pack(stage="active")
    impact = selectors.impact_preview(active)  # the active pack against itself: no change
    assert (impact.products, impact.rows) == (2, [])
    candidate = make_pack(
        real_pack_source().replace('code = "6109.10.00.12"', 'code = "6109.10.00.40"', 1),
        stage="draft",
    )
    impact = selectors.impact_preview(candidate)
    assert impact.products == 2
    [row] = impact.rows
    assert row.sku == "TEE-1"
    assert (row.before["code"], row.after["code"]) == ("6109100012", "6109100040")
    assert row.changes == ["code"]
    assert impact.now == impact.after  # the outcome mix stays: the code changes


def test_the_engine_recipe_in_the_docs_runs_against_the_active_pack(make_pack, cast):
    import pathlib
    import re

    from tests.rulepacks.fakes import facts
    from tests.tariff_fakes import FakeReference

    doc = pathlib.Path(__file__).parents[2] / "docs" / "rule-packs.md"
    recipe = re.search(r"```python\n(.*?)```", doc.read_text(), re.S).group(1)
    namespace: dict = {}
    exec(compile(recipe, "docs/rule-packs.md", "exec"), namespace)  # noqa: S102 (our own docs)
    tee = facts("Men's tee", "Men's knitted cotton t-shirt, crew neck")
    blocked = namespace["classify"](cast.tenant, tee, FakeReference(), [])
    assert blocked.outcome == "blocked"
    assert blocked.reasons == ("no_active_rule_pack", "no_candidate")
    make_pack(stage="active")
    result = namespace["classify"](cast.tenant, tee, FakeReference(), [])
    assert (result.outcome, result.code) == ("classified", "6109100012")
    knife = facts("Chef knife", "Kitchen knife with fixed blade", materials=["steel"])
    result = namespace["classify"](cast.tenant, knife, FakeReference(), [])
    assert (result.outcome, result.reasons) == ("needs_review", ("restricted_goods",))


def test_uploading_new_backtest_cases_requires_validating_again(make_pack, lead):
    pack = make_pack(stage="backtested")
    pack = services.rulepack_cases_upload(
        actor=lead, pack=pack, filename="more.toml", content=cases_toml(15)
    )
    assert (pack.status, pack.gate_report, pack.backtest_report) == ("draft", {}, {})
    assert len(pack.backtest_cases) == 15
    with pytest.raises(ValidationError, match="only a validated pack"):
        services.rulepack_activate(actor=lead, pack=pack)
