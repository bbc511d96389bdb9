"""Writes on rule packs: draft, edit, upload backtest cases, validate, backtest, activate.

Every service is one transaction with its audit event; the pack row is locked while it changes.
Gates and backtests are the pure functions of ``rulepacks.gates`` and ``rulepacks.backtest``.
"""

import hashlib
import tomllib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit import outbox
from audit import services as audit
from rulepacks import backtest, cases, deps, gates, selectors
from rulepacks.models import EDITABLE_STATUSES, RulePack, RulePackStatus
from workbench import extension_points

MAX_SOURCE_CHARS = 1024 * 1024  # hard cap before parsing; the safety gate's limit is lower


def _head(source: str) -> dict:
    """Return name, version and thresholds when the source parses; blanks otherwise."""
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError:
        return {"name": "", "version": "", "min_confidence": None, "tie_margin": None}
    head = data.get("pack") if isinstance(data.get("pack"), dict) else {}
    limits = data.get("thresholds") if isinstance(data.get("thresholds"), dict) else {}

    def text(value):
        return str(value)[:64] if isinstance(value, str) else ""

    def number(value):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if ok else None

    return {
        "name": text(head.get("name"))[:200],
        "version": text(head.get("version")),
        "min_confidence": number(limits.get("min_confidence", 0.82)),
        "tie_margin": number(limits.get("tie_margin", 0.05)),
    }


def _check_source(source: str) -> str:
    source = source.replace("\r\n", "\n")
    if not source.strip():
        raise ValidationError({"source": "The pack is empty."})
    if len(source) > MAX_SOURCE_CHARS:
        raise ValidationError(
            {"source": f"The pack is {len(source)} characters, above {MAX_SOURCE_CHARS}."}
        )
    return source


def _locked(pack: RulePack) -> RulePack:
    return RulePack.objects.select_for_update().get(pk=pack.pk)


def _require_editable(pack: RulePack) -> None:
    if pack.status not in EDITABLE_STATUSES:
        raise ValidationError(
            {"status": f"This pack is {pack.status} and read-only; start a new draft instead."}
        )


def _reset(pack: RulePack, source: str) -> None:
    pack.source = source
    pack.sha256 = hashlib.sha256(source.encode()).hexdigest()
    for key, value in _head(source).items():
        setattr(pack, key, value)
    pack.status = RulePackStatus.DRAFT
    pack.schedule_revision = ""  # pinned again by the next validation
    pack.gate_report = {}
    pack.backtest_report = {}
    pack.validated_by = pack.validated_at = pack.backtested_by = pack.backtested_at = None


@transaction.atomic
def rulepack_create(
    *, actor, tenant, jurisdiction: str, source: str, base: RulePack | None = None
) -> RulePack:
    """Store a new draft pack for ``jurisdiction``; audited. Raises ValidationError.

    A draft started from ``base`` (a pack of the same tenant and jurisdiction) inherits its
    uploaded backtest cases, so the new version is measured on what the old one was.
    """
    if jurisdiction not in settings.JURISDICTIONS:
        raise ValidationError({"jurisdiction": f"Unknown jurisdiction {jurisdiction!r}."})
    if base is not None and (base.tenant_id != tenant.pk or base.jurisdiction != jurisdiction):
        raise ValidationError(
            {
                "jurisdiction": f"Pack #{base.pk} is a {base.jurisdiction} pack: a "
                f"{jurisdiction} draft cannot inherit its backtest cases."
            }
        )
    pack = RulePack(tenant=tenant, jurisdiction=jurisdiction, created_by=_user(actor))
    _reset(pack, _check_source(source))
    if base is not None:
        pack.backtest_cases = list(base.backtest_cases)
        pack.backtest_cases_name = base.backtest_cases_name
    pack.full_clean()
    pack.save()
    data = {"jurisdiction": jurisdiction, "sha256": pack.sha256, "version": pack.version}
    if base is not None:
        data |= {"from": base.pk, "cases_inherited": len(pack.backtest_cases)}
    audit.record(actor=actor, verb="rulepacks.rulepack.created", target=pack, data=data)
    return pack


@transaction.atomic
def rulepack_update(*, actor, pack: RulePack, source: str) -> RulePack:
    """Replace a draft's source (back to draft, reports cleared); refused once active."""
    pack = _locked(pack)
    _require_editable(pack)
    source = _check_source(source)
    old_sha = pack.sha256
    _reset(pack, source)
    pack.full_clean()
    pack.save()
    audit.record(
        actor=actor,
        verb="rulepacks.rulepack.edited",
        target=pack,
        data={"sha256": [old_sha, pack.sha256]},
    )
    return pack


@transaction.atomic
def rulepack_cases_upload(*, actor, pack: RulePack, filename: str, content: bytes) -> RulePack:
    """Attach an uploaded backtest set (xlsx or TOML), replacing any earlier one.

    The whole file is checked first; ValidationError lists every problem with its row or line
    and nothing is stored. The pack goes back to draft with its reports cleared: the runtime
    gate times the backtest set, so the pack must be validated again.
    """
    pack = _locked(pack)
    _require_editable(pack)
    try:
        parsed = cases.parse_cases(filename, content, jurisdiction=pack.jurisdiction)
    except cases.CasesError as err:
        raise ValidationError({"cases": [str(p) for p in err.problems[:50]]}) from err
    pack.backtest_cases = [c.as_dict() for c in parsed]
    pack.backtest_cases_name = filename[:200]
    pack.status = RulePackStatus.DRAFT
    pack.gate_report = {}
    pack.backtest_report = {}
    pack.save()
    audit.record(
        actor=actor,
        verb="rulepacks.rulepack.cases_uploaded",
        target=pack,
        data={"filename": filename[:200], "cases": len(parsed)},
    )
    return pack


@transaction.atomic
def rulepack_discard(*, actor, pack: RulePack) -> None:
    """Delete a draft, failed or validated pack; audited. Active and retired packs stay forever."""
    pack = _locked(pack)
    _require_editable(pack)
    audit.record(
        actor=actor,
        verb="rulepacks.rulepack.discarded",
        target=pack,
        data={"sha256": pack.sha256, "status": pack.status, "version": pack.version},
    )
    pack.delete()


def _all_cases(pack: RulePack) -> list[backtest.Case]:
    uploaded = [backtest.Case.from_dict(c) for c in pack.backtest_cases]
    return uploaded + selectors.finalized_decision_cases(pack.tenant, pack.jurisdiction)


@transaction.atomic
def rulepack_validate(*, actor, pack: RulePack) -> RulePack:
    """Run the five gates against the current schedule and pin it; validated or failed.

    The gate report is stored whatever the result; audited with the failing gates.
    """
    pack = _locked(pack)
    _require_editable(pack)
    reference = deps.reference(pack.jurisdiction)
    revision = getattr(reference, "revision", "") or ""
    report = gates.run_gates(
        pack.source,
        jurisdiction=pack.jurisdiction,
        reference=reference,
        code_check=deps.code_checker(pack.jurisdiction, revision) if reference else None,
        cases=_all_cases(pack),
    )
    pack.gate_report = {**report.as_dict(), "schedule_revision": revision}
    pack.schedule_revision = revision
    pack.status = RulePackStatus.VALIDATED if report.passed else RulePackStatus.FAILED
    pack.validated_by, pack.validated_at = _user(actor), timezone.now()
    pack.backtest_report = {}
    pack.save()
    audit.record(
        actor=actor,
        verb="rulepacks.rulepack.validated",
        target=pack,
        data={
            "passed": report.passed,
            "sha256": pack.sha256,
            "schedule_revision": revision,
            "failed_gates": [g.key for g in report.gates if g.status != "pass"],
        },
    )
    return pack


@transaction.atomic
def rulepack_backtest(*, actor, pack: RulePack) -> RulePack:
    """Backtest a validated pack over golden, uploaded and decision cases; store the report.

    Each case is classified the way production does (``selectors.classify_cases``), with this
    pack and with the active one (or none), so the report compares "now" with "after".
    """
    pack = _locked(pack)
    if pack.status != RulePackStatus.VALIDATED or not pack.gates_passed:
        raise ValidationError({"status": "Validate the pack (all gates passing) first."})
    compiled = selectors.compiled(pack)
    active = selectors.active_pack(pack.tenant, pack.jurisdiction)
    all_cases = backtest.golden_cases(compiled) + _all_cases(pack)
    mode, (after, now) = selectors.classify_cases(
        pack.tenant,
        pack.jurisdiction,
        [compiled, selectors.compiled(active) if active else None],
        all_cases,
    )
    report = backtest.report(
        pack.sha256, all_cases, after, now=now, now_pack=active.pk if active else None, mode=mode
    )
    pack.backtest_report = report
    pack.backtested_by, pack.backtested_at = _user(actor), timezone.now()
    pack.save(update_fields=["backtest_report", "backtested_by", "backtested_at", "updated_at"])
    audit.record(
        actor=actor,
        verb="rulepacks.rulepack.backtested",
        target=pack,
        data={
            k: report[k]
            for k in ("passed", "cases_total", "cases_measured", "accuracy", "review_rate")
        }
        | {"coverage": report["coverage"], "mode": mode}
        | {"denied_low_risk": len(report["denied_low_risk"]), "sha256": pack.sha256},
    )
    return pack


def rulepack_activate(*, actor, pack: RulePack) -> RulePack:
    """Activate a validated, backtested pack and retire the active one, in one transaction.

    Every pack of the (tenant, jurisdiction) is locked in id order first, so two concurrent
    activations run one after the other and exactly one pack ends active (the partial unique
    constraint is the last line of defence). Audited: activated, and retired for the previous;
    outbox ``rulepack.activated``. A refusal raises ``ValidationError`` after recording it
    (audit ``rulepacks.rulepack.activation_refused`` and outbox ``rulepack.activation_refused``)
    in a transaction of its own, since the refused activation itself writes nothing.
    """
    try:
        return _activate(actor=actor, pack=pack)
    except ValidationError as err:
        _record_refusal(actor=actor, pack=pack, reasons=err.messages)
        raise


@transaction.atomic
def _record_refusal(*, actor, pack: RulePack, reasons: list[str]) -> None:
    audit.record(
        actor=actor,
        verb="rulepacks.rulepack.activation_refused",
        target=pack,
        data={"sha256": pack.sha256, "version": pack.version, "reasons": reasons},
    )
    outbox.emit(
        tenant=pack.tenant,
        type=outbox.RULEPACK_ACTIVATION_REFUSED,
        target=pack,
        payload={
            "rulepack_id": pack.pk,
            "jurisdiction": pack.jurisdiction,
            "version": pack.version,
            "reasons": reasons,
            "link": outbox.link(pack.tenant, "rulepacks:detail", pk=pack.pk),
        },
    )


@transaction.atomic
def _activate(*, actor, pack: RulePack) -> RulePack:
    siblings = list(
        RulePack.objects.select_for_update()
        .filter(tenant_id=pack.tenant_id, jurisdiction=pack.jurisdiction)
        .order_by("id")
    )
    pack = next(p for p in siblings if p.pk == pack.pk)
    reference = deps.reference(pack.jurisdiction)
    problems = selectors.activation_problems(pack, getattr(reference, "revision", "") or "")
    if problems:
        raise ValidationError({"status": problems})
    now = timezone.now()
    previous = next((p for p in siblings if p.status == RulePackStatus.ACTIVE), None)
    if previous is not None:
        previous.status, previous.retired_by, previous.retired_at = (
            RulePackStatus.RETIRED,
            _user(actor),
            now,
        )
        previous.save(update_fields=["status", "retired_by", "retired_at", "updated_at"])
        audit.record(
            actor=actor,
            verb="rulepacks.rulepack.retired",
            target=previous,
            data={"sha256": previous.sha256, "replaced_by": pack.pk},
        )
    pack.status, pack.activated_by, pack.activated_at = RulePackStatus.ACTIVE, _user(actor), now
    pack.save(update_fields=["status", "activated_by", "activated_at", "updated_at"])
    audit.record(
        actor=actor,
        verb="rulepacks.rulepack.activated",
        target=pack,
        data={
            "sha256": pack.sha256,
            "version": pack.version,
            "schedule_revision": pack.schedule_revision,
            "retired": previous.pk if previous else None,
        },
    )
    outbox.emit(
        tenant=pack.tenant,
        type=outbox.RULEPACK_ACTIVATED,
        target=pack,
        payload={
            "rulepack_id": pack.pk,
            "jurisdiction": pack.jurisdiction,
            "version": pack.version,
            "sha256": pack.sha256,
            "schedule_revision": pack.schedule_revision,
            "retired_rulepack_id": previous.pk if previous else None,
            "link": outbox.link(pack.tenant, "rulepacks:detail", pk=pack.pk),
        },
    )
    return pack


@transaction.atomic
def rulepack_reclassify(*, actor, pack: RulePack) -> list:
    """Queue the products the active ``pack`` should classify again, in requests of 100.

    The products are ``selectors.products_to_reclassify``'s: of its jurisdiction, whose latest
    decision predates it and waits untouched in a queue. Each request is audited by the
    classifying app; this action is audited as ``rulepacks.rulepack.reclassify_requested``.
    Raises ValidationError when the pack is not active or nothing needs it.
    """
    pack = _locked(pack)
    if pack.status != RulePackStatus.ACTIVE:
        raise ValidationError({"status": f"Pack #{pack.pk} is {pack.status}, not active."})
    product_ids = selectors.products_to_reclassify(pack)
    if not product_ids:
        raise ValidationError(
            {"products": "No open decision predates this pack: nothing to classify again."}
        )
    requests = extension_points.first("reclassify_products")(
        actor=actor, tenant=pack.tenant, product_ids=product_ids
    )
    audit.record(
        actor=actor,
        verb="rulepacks.rulepack.reclassify_requested",
        target=pack,
        data={
            "sha256": pack.sha256,
            "products": len(product_ids),
            "requests": [r.pk for r in requests],
        },
    )
    return requests


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None
