"""Demo data: Acme's US rule pack, validated, backtested and activated like any other pack."""

from pathlib import Path

from rulepacks import deps, selectors, services
from rulepacks.models import RulePack, RulePackStatus

DEMO_DIR = Path(__file__).parent / "demo_data"
DEMO_PACK = DEMO_DIR / "us-demo.toml"
DEMO_CASES = DEMO_DIR / "us-backtest.toml"


def is_demo_pack(pack: RulePack | None) -> bool:
    """Return whether ``pack`` is the demo pack as this step made it (by no user)."""
    return (
        pack is not None
        and pack.created_by_id is None
        and pack.source == DEMO_PACK.read_text(encoding="utf-8")
    )


def activate_demo_pack(tenants: dict, out) -> None:
    """Make the demo US pack active for tenant "acme" while it has no rule pack at all, as no user.

    A tenant with any pack (its own, or the demo's from an earlier run) is left as it is. Runs
    after the catalog and tariffs demo steps; with no US schedule loaded it says so and leaves
    nothing behind, since a pack is only valid against a schedule.
    """
    tenant = tenants.get("acme")
    if tenant is None or RulePack.objects.for_tenant(tenant).exists():
        return
    reference = deps.reference("US")
    if reference is None or not getattr(reference, "national", False):
        out.write("Rule packs: no US tariff schedule loaded, so the demo pack was not activated.")
        return
    source = DEMO_PACK.read_text(encoding="utf-8")
    pack = services.rulepack_create(actor=None, tenant=tenant, jurisdiction="US", source=source)
    pack = services.rulepack_cases_upload(
        actor=None, pack=pack, filename=DEMO_CASES.name, content=DEMO_CASES.read_bytes()
    )
    pack = services.rulepack_validate(actor=None, pack=pack)
    if pack.status != RulePackStatus.VALIDATED:
        failing = [g["title"] for g in pack.gate_report["gates"] if g["status"] != "pass"]
        out.write(f"Rule packs: demo pack #{pack.pk} failed its gates: {', '.join(failing)}.")
        return
    pack = services.rulepack_backtest(actor=None, pack=pack)
    pack = services.rulepack_activate(actor=None, pack=pack)
    report = pack.backtest_report
    out.write(
        f"Rule packs: demo US pack #{pack.pk} active ({len(selectors.compiled(pack).rules)} "
        f"rules, schedule {pack.schedule_revision}, backtest accuracy {report['accuracy']}, "
        f"review rate {report['review_rate']} over {report['cases_total']} cases)."
    )
