"""Promote a broker's final decision to a golden case of the tenant's draft rule pack.

``add_golden_case`` is pure: it appends a ``[[golden]]`` table to a pack's TOML source and
checks that the result still parses with the case in it. ``rulepacks_promote_golden`` applies
it to the tenant's newest editable pack for the jurisdiction, creating a draft from the active
pack when there is none, through this app's services (so the pack's own audit events and
immutability rules apply: an active pack is never edited).
"""

import json

from django.core.exceptions import ValidationError
from django.db import transaction

from rulepacks.format import parser
from rulepacks.format.compiled import FACT_KEYS
from tariffs import codes


def _toml(value) -> str:
    # JSON strings and arrays of strings are valid TOML basic strings and arrays.
    return json.dumps(value, ensure_ascii=False)


def golden_block(*, case_id: str, code: str, outcome: str, facts: dict) -> str:
    """Return the ``[[golden]]`` TOML table for one case (facts limited to pack fact keys)."""
    lines = [
        "",
        "[[golden]]",
        f"id = {_toml(case_id)}",
        f"code = {_toml(codes.fmt(code))}",
        f"outcome = {_toml(outcome)}",
        "[golden.facts]",
    ]
    for key in FACT_KEYS:
        value = facts.get(key)
        if value in (None, "", []) or key in ("sku", "destination"):
            continue
        value = [str(v) for v in value] if isinstance(value, list) else str(value)
        lines.append(f"{key} = {_toml(value)}")
    return "\n".join(lines) + "\n"


def add_golden_case(
    source: str, *, case_id: str, code: str, outcome: str, facts: dict, jurisdiction: str
) -> str:
    """Return ``source`` with the golden case appended; ``ValueError`` says why it cannot be.

    Refused when the pack already has a golden case with that id, or when the pack (with the
    case) does not parse; the problems name their line.
    """
    before = parser.parse(source, jurisdictions=(jurisdiction,))
    if before.pack is not None and any(g.id == case_id for g in before.pack.golden):
        raise ValueError(f"the pack already has a golden case “{case_id}”")
    text = (
        source.rstrip("\n")
        + "\n"
        + golden_block(case_id=case_id, code=code, outcome=outcome, facts=facts)
    )
    after = parser.parse(text, jurisdictions=(jurisdiction,))
    if not after.ok:
        problems = "; ".join(str(p) for p in after.problems[:5])
        raise ValueError(f"the pack with this case does not parse: {problems}")
    return text


@transaction.atomic
def rulepacks_promote_golden(
    *, actor, tenant, jurisdiction: str, case_id: str, facts: dict, code: str, outcome: str
):
    """Add a golden case to the tenant's draft pack for ``jurisdiction``; return the pack.

    Uses the newest editable pack (draft, validated or failed), else creates a draft from the
    active pack. Raises ``ValidationError`` when the tenant has neither, the case id is already
    a golden case, or the edited source does not parse. The edit is audited by
    ``rulepack_update`` (and ``rulepack_create`` for a new draft).
    """
    from rulepacks import services
    from rulepacks.models import EDITABLE_STATUSES, RulePack, RulePackStatus

    packs = RulePack.objects.filter(tenant=tenant, jurisdiction=jurisdiction)
    draft = packs.filter(status__in=EDITABLE_STATUSES).order_by("-created_at", "-pk").first()
    if draft is None:
        active = packs.filter(status=RulePackStatus.ACTIVE).first()
        if active is None:
            raise ValidationError(
                {
                    "__all__": f"There is no {jurisdiction} rule pack to add a golden case to: "
                    "create or activate one first."
                }
            )
        draft = services.rulepack_create(
            actor=actor, tenant=tenant, jurisdiction=jurisdiction, source=active.source
        )
    try:
        source = add_golden_case(
            draft.source,
            case_id=case_id,
            code=code,
            outcome=outcome,
            facts=facts,
            jurisdiction=jurisdiction,
        )
    except ValueError as err:
        raise ValidationError(
            {"__all__": f"Rule pack {draft.version or draft.pk}: {err}."}
        ) from err
    return services.rulepack_update(actor=actor, pack=draft, source=source)
