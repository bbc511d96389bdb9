"""Renderings of an audit export, made only from its frozen snapshot (never from live rows).

The JSON rendering is the stored canonical bytes themselves. The XLSX workbook and the printable
classification certificate read the parsed snapshot; the shape of the ``classification`` section
they rely on is described in ``docs/audit.md``.
"""

from audit import canonical
from audit.xlsx import SheetBook
from workbench import extension_points

CLASSIFICATION = "classification"


def decisions(document: dict) -> list[dict]:
    """Return the decisions of a snapshot (an empty list when no app contributed any)."""
    return (document.get("sections", {}).get(CLASSIFICATION) or {}).get("decisions") or []


def rule_packs(document: dict) -> list[dict]:
    """Return the rule packs (with source text) a snapshot's decisions used."""
    return (document.get("sections", {}).get(CLASSIFICATION) or {}).get("rule_packs") or []


def _joined(values) -> str:
    return ", ".join(str(v) for v in values or [])


def _reason_codes(decision: dict) -> str:
    return _joined(
        r.get("code") if isinstance(r, dict) else r for r in decision.get("reasons") or []
    )


def _final(decision: dict) -> dict:
    return decision.get("final") or {}


def _duty(decision: dict) -> dict:
    return decision.get("duty") or {}


def _summary_rows(document: dict, sha256: str):
    scope, export, tenant = document["scope"], document["export"], document["tenant"]
    rows = [
        ("Format", f"{document['format']} v{document['format_version']}"),
        ("Tenant", f"{tenant['name']} ({tenant['slug']})"),
        ("Export", export["id"]),
        ("Requested by", export["requested_by"]),
        ("Requested at", export["requested_at"]),
        ("Generated at", export["generated_at"]),
        ("Scope: from", scope.get("from") or "(any)"),
        ("Scope: to", scope.get("to") or "(any)"),
        ("Scope: jurisdiction", scope.get("jurisdiction") or "(all)"),
        ("Scope: outcome", scope.get("outcome") or "(all)"),
        ("Scope: SKUs", _joined(scope.get("skus")) or "(all)"),
        ("Decisions", len(decisions(document))),
        ("Rule packs", len(rule_packs(document))),
        ("Audit events", len(document.get("audit_events") or [])),
        ("Audit chain head (seq)", document["chain"]["head_seq"]),
        ("Audit chain head hash", document["chain"]["head_hash"]),
        ("Snapshot SHA-256 (canonical JSON)", sha256),
    ]
    return rows


def _decision_row(d: dict) -> tuple:
    product, pack, final, duty = (
        d.get("product") or {},
        d.get("rule_pack") or {},
        _final(d),
        _duty(d),
    )
    return (
        d.get("id"),
        d.get("created_at"),
        product.get("sku"),
        product.get("version"),
        (product.get("facts") or {}).get("name"),
        d.get("jurisdiction"),
        d.get("outcome"),
        _reason_codes(d),
        d.get("risk_band"),
        d.get("confidence"),
        d.get("selected_code"),
        final.get("code"),
        final.get("description"),
        d.get("status"),
        final.get("by"),
        final.get("at"),
        final.get("reason_code"),
        final.get("ruling_reference"),
        (final.get("supersedes") or {}).get("code"),
        duty.get("total"),
        duty.get("currency"),
        pack.get("version"),
        pack.get("sha256"),
        d.get("schedule_revision"),
        d.get("engine_version"),
    )


def _candidate_rows(d: dict):
    sku = (d.get("product") or {}).get("sku")
    for rank, c in enumerate(d.get("candidates") or [], start=1):
        sources = _joined(f"{s.get('kind')}:{s.get('ref')}" for s in c.get("sources") or [])
        yield (
            d.get("id"),
            sku,
            "considered",
            rank,
            c.get("code"),
            c.get("score"),
            c.get("description"),
            sources,
            c.get("rationale"),
            "",
        )
    for r in d.get("rejected") or []:
        yield (
            d.get("id"),
            sku,
            "rejected",
            None,
            r.get("code"),
            r.get("score"),
            "",
            "",
            r.get("detail"),
            r.get("reason"),
        )


def _review_rows(d: dict):
    sku = (d.get("product") or {}).get("sku")
    for a in d.get("review_actions") or []:
        yield (
            d.get("id"),
            sku,
            a.get("created_at"),
            a.get("actor"),
            a.get("kind"),
            a.get("code"),
            a.get("reason_code"),
            a.get("ruling_reference"),
            a.get("note"),
        )


def _pack_rows(document: dict):
    for p in rule_packs(document):
        yield (
            p.get("id"),
            p.get("jurisdiction"),
            p.get("version"),
            p.get("status"),
            p.get("sha256"),
            p.get("schedule_revision"),
            p.get("activated_at"),
            p.get("activated_by"),
        )


def _source_rows(document: dict):
    for p in rule_packs(document):
        for n, line in enumerate((p.get("source") or "").splitlines(), start=1):
            yield (p.get("id"), p.get("version"), n, line)


def _event_rows(document: dict):
    for e in document.get("audit_events") or []:
        yield (
            e["seq"],
            e["created_at"],
            e["actor_label"],
            e["verb"],
            e["target_type"],
            e["target_id"],
            e["target_label"],
            canonical.dumps(e["data"]),
            e["hash"],
        )


DECISION_HEADER = [
    "Decision", "Created at", "SKU", "Product version", "Product name", "Jurisdiction",
    "Outcome", "Reasons", "Risk", "Confidence", "Machine suggestion", "Final code",
    "Final code description", "Status", "Decided by", "Decided at", "Override reason",
    "Ruling reference", "Supersedes code", "Duty total", "Duty currency", "Rule pack version",
    "Rule pack SHA-256", "Schedule revision", "Engine version",
]  # fmt: skip
CANDIDATE_HEADER = [
    "Decision", "SKU", "Status", "Rank", "Code", "Score", "Description", "Sources",
    "Rationale or detail", "Rejection reason",
]  # fmt: skip
REVIEW_HEADER = [
    "Decision", "SKU", "At", "Actor", "Action", "Code", "Reason code", "Ruling reference", "Note",
]  # fmt: skip
PACK_HEADER = [
    "Rule pack", "Jurisdiction", "Version", "Status", "SHA-256", "Schedule revision",
    "Activated at", "Activated by",
]  # fmt: skip
EVENT_HEADER = ["Seq", "At", "Actor", "Verb", "Target type", "Target id", "Target", "Data", "Hash"]


def render_xlsx(document: dict, sha256: str, out) -> None:
    """Write the snapshot as a workbook to ``out`` (a path or binary file).

    Sheets: Summary, Decisions, Candidates (considered and rejected), Review actions, Rule packs,
    Rule pack sources (one line per row: a cell holds at most 32,767 characters), Audit events.
    Every text cell is text and formula-like text is neutralised (``audit.xlsx``).
    """
    book = SheetBook(out)
    book.add("Summary", ["Field", "Value"], _summary_rows(document, sha256))
    # One pass over the decisions fills three sheets (a lazy snapshot decodes each once).
    decision_sheet = book.sheet("Decisions", DECISION_HEADER)
    candidate_sheet = book.sheet("Candidates", CANDIDATE_HEADER)
    review_sheet = book.sheet("Review actions", REVIEW_HEADER)
    for d in decisions(document):
        decision_sheet.append(_decision_row(d))
        for row in _candidate_rows(d):
            candidate_sheet.append(row)
        for row in _review_rows(d):
            review_sheet.append(row)
    book.add("Rule packs", PACK_HEADER, _pack_rows(document))
    book.add("Rule pack sources", ["Rule pack", "Version", "Line", "Text"], _source_rows(document))
    book.add("Audit events", EVENT_HEADER, _event_rows(document))
    book.close()


def labels() -> dict[str, dict[str, str]]:
    """Labels for the codes a snapshot holds (fact keys, reason codes, action kinds…), from the
    apps that define them (the ``audit_labels`` extension point), read when rendering: old
    snapshots get today's wording, and the frozen bytes stay as they were."""
    merged: dict[str, dict[str, str]] = {}
    for answer in extension_points.collect("audit_labels"):
        for category, mapping in answer.items():
            merged.setdefault(category, {}).update(mapping)
    return merged


def _ordered_facts(facts: dict, fact_labels: dict) -> list[tuple[str, str, object]]:
    """(key, label, value) in the catalog's order of facts, unknown keys after, by key."""
    order = {key: n for n, key in enumerate(fact_labels)}
    keys = sorted(facts, key=lambda k: (order.get(k, len(order)), k))
    return [(k, fact_labels.get(k) or k.replace("_", " ").capitalize(), facts[k]) for k in keys]


def certificate_context(document: dict, sha256: str, decision_id: int) -> dict | None:
    """Return what one decision's certificate shows, from the snapshot only (None if absent).

    Codes are shown with their labels (``labels``) and timestamps as people read them
    (``audit_tags.human_time``); both are formatted here and in the template, never stored.
    """
    decision = next((d for d in decisions(document) if d.get("id") == decision_id), None)
    if decision is None:
        return None
    pack_ref = decision.get("rule_pack") or {}
    pack = next((p for p in rule_packs(document) if p.get("id") == pack_ref.get("id")), None)
    product = decision.get("product") or {}
    names = labels()
    return {
        "document": document,
        "sha256": sha256,
        "decision": decision,
        "product": product,
        "facts": _ordered_facts(product.get("facts") or {}, names.get("facts", {})),
        "final": _final(decision),
        "duty": _duty(decision),
        "pack_ref": pack_ref,
        "pack": pack,
        "reasons": [
            r if isinstance(r, dict) else {"code": r} for r in decision.get("reasons") or []
        ],
        "labels": names,
    }


def render_log_xlsx(events, out) -> None:
    """Write audit events (``AuditEvent`` rows, newest first) as a one-sheet workbook."""
    book = SheetBook(out)
    book.add(
        "Audit log",
        EVENT_HEADER,
        (
            (
                e.seq,
                e.created_at.isoformat(),
                e.actor_label,
                e.verb,
                e.target_type,
                e.target_id,
                e.target_label,
                canonical.dumps(e.data),
                e.hash,
            )
            for e in events
        ),
    )
    book.close()
