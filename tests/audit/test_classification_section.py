"""The classification section provider, on plain objects shaped like the models.

The Decision, ProductVersion and ReviewAction models are built on other branches; until they
are merged these tests feed ``classification.export.decision_record`` objects with the same
attributes, and the section as a whole returns nothing while ``Decision`` does not exist.
"""

import datetime as dt
from types import SimpleNamespace

from django.apps import apps

from classification import export

AT = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def _decision(**over):
    evidence = {
        "candidates": [
            {"code": "8471300100", "score": 0.93, "description": "Portable ADP machines"},
            {"code": "8471410150", "score": 0.4, "description": "Other ADP machines"},
        ],
        "rejected": [{"code": "8528520000", "score": 0.2, "reason": "excluded_by_rule"}],
        "reasons": [{"code": "agency_requirements", "message": "FD1", "detail": {}}],
        "duty": {"selected": {"code": "8471300100", "total": "0.00", "currency": "USD"}},
        "explanation": "Rule laptops matched.",
        "flags": {"pga": ["FD1"]},
    }
    values = {
        "pk": 12,
        "created_at": AT,
        "jurisdiction": "US",
        "outcome": "needs_review",
        "reasons": ["agency_requirements"],
        "risk_band": "medium",
        "confidence": 0.93,
        "selected_code": "8471300100",
        "evidence": evidence,
        "duty_total": None,
        "duty_currency": "",
        "product_id": 3,
        "rule_pack_id": 7,
        "rule_pack_version": "2026.1",
        "rule_pack_sha256": "a" * 64,
        "schedule_revision": "2026 Revision 4",
        "engine_version": "1.0",
        "product_version": SimpleNamespace(
            n=2, facts={"sku": "LAP-1", "name": "Laptop"}, sha256="f" * 64
        ),
    }
    values.update(over)
    return SimpleNamespace(**values)


def _action(pk, kind, code="", actor="acme-broker", minutes=0, **over):
    values = {
        "pk": pk,
        "kind": kind,
        "code": code,
        "reason_code": "",
        "note": "",
        "created_at": AT + dt.timedelta(minutes=minutes),
        "actor": SimpleNamespace(get_username=lambda: actor),
    }
    values.update(over)
    return SimpleNamespace(**values)


def test_a_decision_record_carries_facts_evidence_pack_and_schedule():
    record = export.decision_record(_decision(), [])
    assert record["product"] == {
        "id": 3,
        "sku": "LAP-1",
        "version": 2,
        "facts": {"sku": "LAP-1", "name": "Laptop"},
        "facts_sha256": "f" * 64,
    }
    assert [c["code"] for c in record["candidates"]] == ["8471300100", "8471410150"]
    assert record["rejected"][0]["reason"] == "excluded_by_rule"
    assert record["reasons"][0]["code"] == "agency_requirements"
    assert record["duty"]["currency"] == "USD" and record["explanation"] == "Rule laptops matched."
    assert record["rule_pack"] == {"id": 7, "version": "2026.1", "sha256": "a" * 64}
    assert record["schedule_revision"] == "2026 Revision 4"
    assert record["selected_description"] == "Portable ADP machines"
    assert record["final"] is None and record["status"] == "needs_review"


def test_the_final_code_is_the_latest_accept_override_or_resolve():
    actions = [
        _action(1, "escalate", minutes=1, actor="acme-broker"),
        _action(
            2,
            "override",
            code="8471410150",
            minutes=2,
            actor="acme-compliance",
            reason_code="better_fit",
            note="no battery",
        ),
        _action(3, "request_info", minutes=3),
    ]
    record = export.decision_record(_decision(), actions)
    assert [a["kind"] for a in record["review_actions"]] == ["escalate", "override", "request_info"]
    assert record["final"] == {
        "code": "8471410150",
        "description": "Other ADP machines",
        "by": "acme-compliance",
        "at": AT + dt.timedelta(minutes=2),
        "kind": "override",
        "reason_code": "better_fit",
        "note": "no battery",
        "ruling_reference": "",
        "supersedes": None,
        "authority": None,
    }
    assert record["status"] == "final"


def test_a_reopened_or_superseded_decision_holds_no_final_code():
    for after in ("reopen", "superseded"):
        actions = [_action(1, "accept"), _action(2, after, minutes=1)]
        record = export.decision_record(_decision(), actions)
        assert record["final"] is None and record["status"] == record["outcome"]


def test_an_accept_takes_the_machine_suggestion():
    record = export.decision_record(_decision(), [_action(1, "accept")])
    assert record["final"]["code"] == "8471300100" and record["final"]["by"] == "acme-broker"


def test_without_a_pack_or_engine_duty_the_record_says_so():
    decision = _decision(
        rule_pack_id=None,
        evidence={},
        reasons=["no_active_rule_pack"],
        duty_total=None,
        duty_currency="",
        selected_code="",
    )
    record = export.decision_record(decision, [])
    assert record["rule_pack"] is None
    assert record["reasons"] == [{"code": "no_active_rule_pack"}]
    assert record["duty"] == {"total": None, "currency": ""}


def test_the_section_is_empty_while_decisions_do_not_exist(cast):
    config = apps.get_app_config("classification")
    has_decisions = any(m.__name__ == "Decision" for m in config.get_models())
    sections = config.audit_export_sections(cast.tenant, {"skus": []})
    if has_decisions:
        assert set(sections) == {"classification"}
    else:
        assert sections == {}
