"""The classification section of audit exports: decisions as they stood, with their evidence.

``ClassificationConfig.audit_export_sections`` calls ``sections``. Everything is copied into the
snapshot (facts of the classified product version, candidates, rejections, reasons, risk, duty,
the rule pack with its SHA-256 and source text, the schedule revision, review actions and the
final code), so that a certificate rendered years later needs nothing else. The shape is
documented in ``docs/audit.md``; decisions stream one at a time so 50,000 of them fit in memory.
"""

from django.apps import apps

from audit import snapshot

CHUNK = 2000
FINAL_KINDS = ("accept", "override", "resolve", "system_finalize")
# Actions after which the decision holds no final code (reopened, or replaced by a later one).
UNFINAL_KINDS = ("reopen", "superseded")
# What an action's data says about the lifecycle, kept in the record.
_DATA_KEYS = ("supersedes", "authority", "spot_check", "signed_off_by", "by")


def _model(app: str, name: str):
    try:
        return apps.get_model(app, name)
    except LookupError:
        return None


def _decisions(tenant, scope: dict):
    Decision = _model("classification", "Decision")
    decisions = Decision.objects.filter(tenant=tenant)
    start, end = snapshot.scope_bounds(scope)
    if start:
        decisions = decisions.filter(created_at__gte=start)
    if end:
        decisions = decisions.filter(created_at__lt=end)
    if scope.get("jurisdiction"):
        decisions = decisions.filter(jurisdiction=scope["jurisdiction"])
    if scope.get("outcome"):
        decisions = decisions.filter(outcome=scope["outcome"])
    if scope.get("skus"):
        decisions = decisions.filter(product__sku__in=scope["skus"])
    return decisions.order_by("id")


def _user(user) -> str | None:
    return user.get_username() if user is not None else None


def _action(action) -> dict:
    return {
        "id": action.pk,
        "kind": action.kind,
        "actor": _user(getattr(action, "actor", None)),
        "code": getattr(action, "code", "") or "",
        "reason_code": getattr(action, "reason_code", "") or "",
        "note": getattr(action, "note", "") or "",
        "ruling_reference": getattr(action, "ruling_reference", "") or "",
        "created_at": action.created_at,
        **{k: v for k, v in (getattr(action, "data", None) or {}).items() if k in _DATA_KEYS},
    }


def _final(decision, actions: list[dict]) -> dict | None:
    """The latest finalizing action with its code (an accept takes the machine's code), or None
    when a reopen or a later decision came after it."""
    for action in reversed(actions):
        if action["kind"] in UNFINAL_KINDS:
            return None
        if action["kind"] in FINAL_KINDS:
            code = action["code"] or decision.selected_code
            return {
                "code": code,
                "description": _description(decision, code),
                "by": action["actor"] or ("system" if action.get("authority") else None),
                "at": action["created_at"],
                "kind": action["kind"],
                "reason_code": action["reason_code"],
                "note": action["note"],
                "ruling_reference": action["ruling_reference"],
                "supersedes": action.get("supersedes"),
                "authority": action.get("authority"),
            }
    return None


def _description(decision, code: str) -> str:
    from classification import selectors

    return selectors.code_description(decision, code)


def decision_record(decision, actions: list) -> dict:
    """Return one decision as it goes into the snapshot (JSON-safe)."""
    evidence, version = decision.evidence or {}, decision.product_version
    reviews = [_action(a) for a in actions]
    final = _final(decision, reviews)
    duty = (evidence.get("duty") or {}).get("selected") or {
        "total": decision.duty_total,
        "currency": decision.duty_currency,
    }
    return {
        "id": decision.pk,
        "created_at": decision.created_at,
        "jurisdiction": decision.jurisdiction,
        "outcome": decision.outcome,
        "status": "final" if final else decision.outcome,
        "reasons": evidence.get("reasons") or [{"code": r} for r in decision.reasons],
        "risk_band": decision.risk_band,
        "confidence": decision.confidence,
        "selected_code": decision.selected_code,
        "selected_description": _description(decision, decision.selected_code),
        "explanation": evidence.get("explanation", ""),
        "candidates": evidence.get("candidates", []),
        "rejected": evidence.get("rejected", []),
        "duty": duty,
        "duty_alternatives": (evidence.get("duty") or {}).get("alternatives", []),
        "duty_exposure": (evidence.get("duty") or {}).get("exposure", []),
        "flags": evidence.get("flags", {}),
        "product": {
            "id": decision.product_id,
            "sku": version.facts.get("sku"),
            "version": version.n,
            "facts": version.facts,
            "facts_sha256": version.sha256,
        },
        "rule_pack": {
            "id": decision.rule_pack_id,
            "version": decision.rule_pack_version,
            "sha256": decision.rule_pack_sha256,
        }
        if decision.rule_pack_id
        else None,
        "schedule_revision": decision.schedule_revision,
        "engine_version": decision.engine_version,
        "review_actions": reviews,
        "final": final,
    }


def _stream(decisions, ReviewAction):
    """Yield decision records, fetching review actions per chunk of decisions (no N+1)."""
    batch = []
    query = decisions.select_related("product_version").iterator(chunk_size=CHUNK)
    for decision in query:
        batch.append(decision)
        if len(batch) == CHUNK:
            yield from _records(batch, ReviewAction)
            batch = []
    yield from _records(batch, ReviewAction)


def _records(batch, ReviewAction):
    actions: dict[int, list] = {}
    if ReviewAction is not None and batch:
        rows = ReviewAction.objects.filter(decision_id__in=[d.pk for d in batch])
        for action in rows.select_related("actor").order_by("created_at", "id"):
            actions.setdefault(action.decision_id, []).append(action)
    for decision in batch:
        yield decision_record(decision, actions.get(decision.pk, []))


def _rule_packs(tenant, decisions) -> list[dict]:
    RulePack = _model("rulepacks", "RulePack")
    if RulePack is None:
        return []
    ids = decisions.exclude(rule_pack=None).values("rule_pack_id")
    packs = RulePack.objects.filter(tenant=tenant, pk__in=ids).order_by("id")
    return [
        {
            "id": p.pk,
            "jurisdiction": p.jurisdiction,
            "name": getattr(p, "name", ""),
            "version": p.version,
            "status": p.status,
            "sha256": p.sha256,
            "source": p.source,
            "schedule_revision": p.schedule_revision,
            "activated_at": p.activated_at,
            "activated_by": _user(getattr(p, "activated_by", None)),
        }
        for p in packs.select_related("activated_by")
    ]


def _targets(decisions, ReviewAction) -> list[list]:
    rows = list(decisions.values_list("id", "product_id", "rule_pack_id"))
    targets = {("classification.decision", d) for d, _p, _r in rows}
    targets |= {("catalog.product", p) for _d, p, _r in rows}
    targets |= {("rulepacks.rulepack", r) for _d, _p, r in rows if r}
    if ReviewAction is not None:
        ids = ReviewAction.objects.filter(decision__in=decisions).values_list("id", flat=True)
        targets |= {("classification.reviewaction", a) for a in ids}
    return sorted([t, str(i)] for t, i in targets)


def sections(tenant, scope: dict) -> dict:
    """Return ``{"classification": ...}`` for an audit export of ``tenant`` over ``scope``."""
    if _model("classification", "Decision") is None:
        return {}
    ReviewAction = _model("classification", "ReviewAction")
    decisions = _decisions(tenant, scope)
    return {
        "classification": {
            "decisions": _stream(decisions, ReviewAction),
            "rule_packs": _rule_packs(tenant, decisions),
            snapshot.TARGETS_KEY: _targets(decisions, ReviewAction),
        }
    }
