"""Demo data: Acme's US rule pack, validated, backtested and activated like any other pack."""

from pathlib import Path

from django.contrib.auth import get_user_model

from rulepacks import deps, selectors, services

DEMO_DIR = Path(__file__).parent / "demo_data"
DEMO_PACK = DEMO_DIR / "us-demo.toml"
DEMO_CASES = DEMO_DIR / "us-backtest.toml"


def activate_demo_pack(tenants: dict, out) -> None:
    """Make the demo US pack active for tenant "acme" (as its compliance lead), once.

    Runs after the catalog and tariffs demo steps; with no US schedule loaded it says so and
    leaves nothing behind, since a pack is only valid against a schedule.
    """
    tenant = tenants.get("acme")
    if tenant is None:
        return
    source = DEMO_PACK.read_text(encoding="utf-8")
    active = selectors.active_pack(tenant, "US")
    if active is not None and active.source == source:
        return
    reference = deps.reference("US")
    if reference is None or not getattr(reference, "national", False):
        out.write("Rule packs: no US tariff schedule loaded, so the demo pack was not activated.")
        return
    lead = get_user_model().objects.filter(username="compliance").first()
    pack = services.rulepack_create(actor=lead, tenant=tenant, jurisdiction="US", source=source)
    pack = services.rulepack_cases_upload(
        actor=lead, pack=pack, filename=DEMO_CASES.name, content=DEMO_CASES.read_bytes()
    )
    pack = services.rulepack_validate(actor=lead, pack=pack)
    if pack.status != "validated":
        failing = [g["title"] for g in pack.gate_report["gates"] if g["status"] != "pass"]
        out.write(f"Rule packs: demo pack #{pack.pk} failed its gates: {', '.join(failing)}.")
        return
    pack = services.rulepack_backtest(actor=lead, pack=pack)
    pack = services.rulepack_activate(actor=lead, pack=pack)
    report = pack.backtest_report
    out.write(
        f"Rule packs: demo US pack #{pack.pk} active ({len(selectors.compiled(pack).rules)} "
        f"rules, schedule {pack.schedule_revision}, backtest accuracy {report['accuracy']}, "
        f"review rate {report['review_rate']} over {report['cases_total']} cases)."
    )
