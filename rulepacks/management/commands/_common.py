"""Shared helpers of the rule-pack commands: tenant and actor lookup, report printing."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from rulepacks import backtest
from rulepacks.models import RulePack
from workbench.models import Tenant
from workbench.roles import perm


def add_common_arguments(parser) -> None:
    parser.add_argument("--tenant", required=True, help="tenant slug")
    parser.add_argument(
        "--actor",
        help="username recorded in the audit log (must hold manage_rulepacks in the tenant); "
        "without it the events are recorded as the system",
    )


def tenant_and_actor(options):
    tenant = Tenant.objects.filter(slug=options["tenant"]).first()
    if tenant is None:
        raise CommandError(f"No tenant {options['tenant']!r}.")
    actor = None
    if options.get("actor"):
        actor = get_user_model().objects.filter(username=options["actor"]).first()
        if actor is None or not actor.has_perm(perm("manage_rulepacks"), tenant):
            raise CommandError(f"{options['actor']!r} may not manage rule packs in {tenant.slug}.")
    return tenant, actor


def pack_of(tenant, pk: int) -> RulePack:
    pack = RulePack.objects.filter(tenant=tenant, pk=pk).first()
    if pack is None:
        raise CommandError(f"No rule pack #{pk} in {tenant.slug}.")
    return pack


def write_gates(out, pack: RulePack) -> None:
    report = pack.gate_report or {}
    out.write(f"Rule pack #{pack.pk} ({pack.jurisdiction}, {pack.status}) sha256 {pack.sha256}")
    out.write(f"Schedule: {report.get('schedule_revision') or 'none'}")
    for number, gate in enumerate(report.get("gates", []), start=1):
        out.write(f"  {number}. {gate['title']}: {gate['status'].upper()}")
        for problem in gate["problems"]:
            where = f"line {problem['line']}: " if problem.get("line") else ""
            out.write(f"       - {where}{problem['message']}")
        details = gate.get("details", {})
        if details.get("note"):
            out.write(f"       note: {details['note']}")
        if "p99_ms" in details:
            out.write(
                f"       p99 {details['p99_ms']} ms over {details['cases_timed']} cases "
                f"(budget {details['budget_ms']} ms)"
            )


def write_backtest(out, pack: RulePack) -> None:
    report = pack.backtest_report or {}
    out.write(
        f"Backtest of rule pack #{pack.pk}: {report.get('cases_total', 0)} cases "
        f"{report.get('sources', {})}"
    )
    if "cases_measured" in report:
        now = report.get("now") or {}
        out.write(
            f"  {report['cases_measured']} cases measured ({report.get('mode')}); rule coverage "
            f"{report['coverage']}, finalized decisions covered "
            f"{report['decisions_covered'][0]} of {report['decisions_covered'][1]}"
            + (
                f"; now: review rate {now['review_rate']}, accuracy {now['accuracy']}"
                if now
                else ""
            )
        )
    for check in report.get("checks", []):
        mark = "PASS" if check["passed"] else "FAIL"
        out.write(f"  {mark} {check['name']}: {check['value']} (needs {check['threshold']})")
    rows = [r for r in report.get("cases", []) if r.get("counted", True)]
    for row in rows:
        if not row["code_ok"]:
            out.write(
                f"  miss {row['id']} ({row['source']}, {row['where']}): expected "
                f"{row['expect_code'] or 'no code'}, got {row['code'] or 'no code'} "
                f"{row['outcome']} {','.join(row['reasons'])}"
            )
    routed = [r["id"] for r in rows if r["code_ok"] and not r["outcome_ok"]]
    if routed:
        out.write(
            f"  {len(routed)} cases with the expected code routed otherwise than expected: "
            f"{', '.join(routed[:10])}{' …' if len(routed) > 10 else ''}"
        )
    for problem in backtest.failed_checks(report):
        out.write(f"  - {problem}")
