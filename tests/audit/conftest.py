"""Fixtures of the audit tests: a stand-in classification section provider.

Until the classification models are merged, exports are exercised with a provider defined here,
registered through the same ``audit_export_sections`` hook the real one uses. Its "live" data is
a mutable structure, so a test can change products, packs and decisions after an export.
"""

import copy

import pytest
from django.apps import apps

import audit

PACK_SOURCE = """[pack]
jurisdiction = "US"
version = "2026.1"

[[rule]]
id = "laptops"
when = { product_type = "laptop" }
code = "8471300100"
"""


def _decision(pk, sku, **over):
    base = {
        "id": pk,
        "created_at": "2026-11-20T10:00:00+00:00",
        "jurisdiction": "US",
        "outcome": "classified",
        "status": "final",
        "reasons": [],
        "risk_band": "low",
        "confidence": 0.93,
        "selected_code": "8471300100",
        "selected_description": "Portable automatic data processing machines",
        "explanation": "Rule laptops matched product_type=laptop.",
        "candidates": [
            {
                "code": "8471300100",
                "score": 0.93,
                "description": "Portable ADP machines, weight ≤ 10 kg",
                "rationale": "rule laptops",
                "sources": [{"kind": "rule", "ref": "laptops", "weight": 0.9, "detail": {}}],
                "duty": None,
                "declarable": True,
            },
            {
                "code": "8471410150",
                "score": 0.41,
                "description": "Other ADP machines",
                "rationale": "search",
                "sources": [{"kind": "search", "ref": "search", "weight": 0.41, "detail": {}}],
                "duty": None,
                "declarable": True,
            },
        ],
        "rejected": [
            {"code": "8528520000", "score": 0.2, "reason": "excluded_by_rule", "detail": "monitor"}
        ],
        "duty": {
            "code": "8471300100",
            "computable": True,
            "total": "0.00",
            "currency": "USD",
            "lines": [{"label": "General", "rate_text": "Free", "amount": "0.00"}],
            "notes": [],
        },
        "product": {
            "id": pk * 10,
            "sku": sku,
            "version": 1,
            "facts_sha256": "f" * 64,
            "facts": {"sku": sku, "name": f"Laptop {sku}", "materials": ["aluminium"]},
        },
        "rule_pack": {"id": 7, "version": "2026.1", "sha256": "a" * 64},
        "schedule_revision": "2026 Revision 4",
        "engine_version": "1.0",
        "review_actions": [
            {
                "id": pk * 100,
                "kind": "accept",
                "actor": "acme-broker",
                "code": "8471300100",
                "reason_code": "",
                "note": "matches the spec sheet",
                "created_at": "2026-11-20T11:00:00+00:00",
            }
        ],
        "final": {
            "code": "8471300100",
            "description": "Portable automatic data processing machines",
            "by": "acme-broker",
            "at": "2026-11-20T11:00:00+00:00",
            "kind": "accept",
        },
    }
    base.update(over)
    return base


class FakeClassification:
    """Live classification data for the stand-in provider; tests mutate it freely."""

    def __init__(self):
        self.decisions = [_decision(1, "LAP-1"), _decision(2, "LAP-2", outcome="needs_review")]
        self.packs = [
            {
                "id": 7,
                "jurisdiction": "US",
                "version": "2026.1",
                "status": "active",
                "sha256": "a" * 64,
                "source": PACK_SOURCE,
                "schedule_revision": "2026 Revision 4",
                "activated_at": "2026-11-01T09:00:00+00:00",
                "activated_by": "acme-compliance_lead",
            }
        ]
        self.fail_with: Exception | None = None

    def sections(self, tenant, scope):
        if self.fail_with is not None:
            raise self.fail_with
        chosen = [
            d
            for d in self.decisions
            if (not scope.get("skus") or d["product"]["sku"] in scope["skus"])
            and (not scope.get("outcome") or d["outcome"] == scope["outcome"])
            and (not scope.get("jurisdiction") or d["jurisdiction"] == scope["jurisdiction"])
        ]
        targets = [["classification.decision", d["id"]] for d in chosen]
        targets += [["catalog.product", d["product"]["id"]] for d in chosen]
        return {
            "classification": {
                # A generator, as the real provider streams decisions.
                "decisions": (copy.deepcopy(d) for d in chosen),
                "rule_packs": copy.deepcopy(self.packs),
                "audit_targets": targets,
            }
        }


@pytest.fixture
def live(monkeypatch):
    """Register the stand-in provider on the workbench AppConfig for the test's duration."""
    fake = FakeClassification()
    config = apps.get_app_config("workbench")
    monkeypatch.setattr(config, "audit_export_sections", fake.sections, raising=False)
    return fake


@pytest.fixture
def product_events(cast):
    """Events about the two products and decisions of ``live``, plus one about another product."""
    events = []
    for target in [("catalog.product", 10, "LAP-1"), ("catalog.product", 20, "LAP-2")]:
        events.append(
            audit.record(
                actor=cast.users["analyst"],
                verb="catalog.product.updated",
                target=target,
                tenant=cast.tenant,
                data={"name": ["Old", "New"]},
            )
        )
    events.append(
        audit.record(
            actor=cast.users["broker"],
            verb="classification.decision.accepted",
            target=("classification.decision", 1, "Decision #1"),
            tenant=cast.tenant,
            data={"code": "8471300100"},
        )
    )
    events.append(
        audit.record(
            actor=cast.users["analyst"],
            verb="catalog.product.updated",
            target=("catalog.product", 99, "OTHER"),
            tenant=cast.tenant,
            data={"name": ["A", "B"]},
        )
    )
    return events
