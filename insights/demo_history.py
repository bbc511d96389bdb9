"""Demo: six weeks of review history on "HIST-" products, so the dashboard has figures to show.

The demo catalog's own decisions are a few minutes old when `make run` starts; the dashboard's
charts need weeks. This writes, for the demo tenant only, products ``HIST-0001…`` ("demo
history" in their names), one decision each dated over the last ``DAYS`` days, and what
happened to it: accepted or overridden by the demo broker within hours or days, some finalized
on the demo pack's authority and spot-checked, some escalated by the broker and decided by the
compliance lead. Every one is final: history is finished work, so none of it waits in a live
queue (confirm, needs review, escalated, spot check) beside the demo's real items. Review
states, actions and daily tallies are written as the services would have written them then; the
audit log records each product and review action now, under the system actor "demo data", each
event saying which past moment it stands for.

Precedents: a broker's final code teaches the engine
(``classification.precedents.PERSON_FINAL``), so these made-up decisions would be precedents of
the real catalog. They are made to be right rather than kept out: every product's facts name the
goods a pack rule covers, its final code is that rule's code for those goods, and an override is
the machine's men's code corrected to the women's one (or the like) on goods whose facts say
women's. A precedent drawn from them cites
correct codes; their SKUs and names say they are demo history.
"""

import contextlib
import datetime as dt
import random
import uuid
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from audit import services as audit_services
from catalog import facts as catalog_facts
from catalog.models import ClassificationStatus, Product, ProductVersion
from classification.models import (
    ClassificationRequest,
    Decision,
    Job,
    JobStatus,
    Outcome,
    ReviewAction,
    ReviewQueue,
    ReviewState,
    ReviewStatus,
    SpotCheck,
)
from classification.review import states as review_states
from classification.review import tallies
from rulepacks import selectors as rulepack_selectors

DAYS = 42
PREFIX = "HIST-"
LABEL = "demo data"
NOTE = "Demo history: made up so the dashboard has weeks to show."
# (goods, description, material, rule, the machine's code, the right code, duty % of each).
# The right code is the demo pack rule's code for the goods the facts describe.
GOODS = [
    ("Men's jersey tee", "Men's knitted T-shirt of cotton jersey", "cotton 100%",
     "tshirt-cotton-men", "6109100012", "6109100012"),
    ("Women's jersey tee", "Women's knitted T-shirt of cotton jersey", "cotton 100%",
     "tshirt-cotton-men", "6109100012", "6109100040"),
    ("Men's cotton pullover", "Men's knitted pullover sweater of cotton", "cotton 100%",
     "sweater-cotton-men", "6110202010", "6110202010"),
    ("Women's cotton pullover", "Women's knitted pullover sweater of cotton", "cotton 100%",
     "sweater-cotton-men", "6110202010", "6110202020"),
    ("Women's cotton sweatshirt", "Women's knitted sweatshirt of cotton fleece", "cotton 100%",
     "sweatshirt-cotton-women", "6110202046", "6110202046"),
    ("Men's denim jeans", "Men's trousers of cotton denim, five pockets", "cotton 98%; elastane",
     "jeans-men", "6203424511", "6203424511"),
    ("Women's denim jeans", "Women's trousers of cotton denim, high waist", "cotton 98%; elastane",
     "jeans-men", "6203424511", "6204628011"),
    ("Over-ear headphones", "Wired over-ear headphones with microphone", "plastic; metal",
     "headphones", "8518302000", "8518302000"),
    ("Cotton ankle socks", "Knitted ankle socks of cotton, pack of three", "cotton 80%; polyamide",
     "socks-cotton", "6115959000", "6115959000"),
]  # fmt: skip
ORIGINS = ["CN", "VN", "BD", "IN", "TR", "MX"]
# General duty rates (%, ad valorem, rounded) of the codes above, and the code a catalog row
# might have declared for each right code (its prior code), to give duty exposure something.
RATES = {
    "6109100012": Decimal("16.5"),
    "6109100040": Decimal("16.5"),
    "6110202010": Decimal("16.5"),
    "6110202020": Decimal("16.5"),
    "6110202046": Decimal("16.5"),
    "6203424511": Decimal("16.6"),
    "6204628011": Decimal("16.6"),
    "8518302000": Decimal("4.9"),
    "6115959000": Decimal("13.5"),
    "6105100010": Decimal("19.7"),
    "6106100010": Decimal("19.7"),
    "6110303059": Decimal("32"),
    "6204624011": Decimal("16.6"),
    "8518300000": Decimal("0"),
    "6115950000": Decimal("13.5"),
}
DECLARED = {
    "6109100012": "6105100010", "6109100040": "6106100010", "6110202010": "6110303059",
    "6110202020": "6110303059", "6110202046": "6110202046", "6203424511": "6203424511",
    "6204628011": "6204624011", "8518302000": "8518300000", "6115959000": "6115950000",
}  # fmt: skip


def seed_history(tenants, out) -> None:
    """Write the demo history once, for the demo tenant while nobody has worked in it."""
    tenant = tenants.get("acme")
    if tenant is None or not _untouched(tenant):
        return
    pack = rulepack_selectors.active_pack(tenant, "US")
    users = get_user_model().objects
    broker = users.filter(username="broker").first()
    if pack is None or broker is None:
        return
    lead = users.filter(username="compliance").first()
    n = history_create(tenant=tenant, pack=pack, broker=broker, lead=lead)
    out.write(f"Dashboard history: {n} decisions over the last {DAYS} days on HIST- products.")


def _untouched(tenant) -> bool:
    from classification import demo as classification_demo

    if Product.objects.filter(tenant=tenant, sku__startswith=PREFIX).exists():
        return False
    people = ReviewAction.objects.filter(tenant=tenant, actor__isnull=False)
    return not people.exclude(note=classification_demo.HISTORY_NOTE).exists()


@contextlib.contextmanager
def _dated(*models):
    """Let ``created_at`` be set by hand on these models: the history happened in the past."""
    fields = [m._meta.get_field("created_at") for m in models]
    for f in fields:
        f.auto_now_add = False
    try:
        yield
    finally:
        for f in fields:
            f.auto_now_add = True


@transaction.atomic
def history_create(
    *, tenant, pack, broker, lead=None, days: int = DAYS, per_day: int = 6, seed: int = 19
):
    """Write ``days`` days of decisions and review on new HIST- products; return how many.

    Escalations are decided by ``lead`` (none without one). One transaction; deterministic for
    a ``seed``; audited under the system actor."""
    rng = random.Random(seed)
    now = timezone.now()
    plan = []  # (goods, created_at)
    for back in range(days, 0, -1):
        day = now - dt.timedelta(days=back)
        if day.weekday() >= 5 and rng.random() < 0.7:
            continue  # quiet weekends
        for _ in range(rng.randint(per_day - 2, per_day + 2)):
            when = day.replace(hour=rng.randint(7, 17), minute=rng.randint(0, 59))
            plan.append((rng.choice(GOODS), min(when, now - dt.timedelta(minutes=5))))
    products = _products(tenant, plan, rng, now)
    decisions = _decisions(tenant, pack, products, plan, rng)
    states = review_states.review_states_open(decisions, actor_label=LABEL)
    events = _review(tenant, {"broker": broker, "lead": lead}, decisions, states, plan, rng, now)
    tallies.tally_rebuild(tenant.pk)  # states were moved here by hand: count them again
    audit_services.record_many(
        tenant=tenant,
        entries=[
            {
                "actor": None,
                "actor_label": LABEL,
                "verb": "catalog.product.created",
                "target": p,
                "data": {"sku": p.sku, "demo_history": True},
            }
            for p in products
        ]
        + events,
    )
    return len(decisions)


def _products(tenant, plan, rng, now) -> list:
    facts = []
    for i, ((name, description, material, *_), _) in enumerate(plan, start=1):
        facts.append(
            {
                "sku": f"{PREFIX}{i:04d}",
                "name": f"{name} (demo history)",
                "description": description,
                "country_of_origin": rng.choice(ORIGINS),
                "materials": [m.strip() for m in material.split(";")],
                "intended_use": "Retail sale (demo history)",
                "product_type": name.split()[-1],
                "destination": "US",
                "customs_value": str(Decimal(rng.randint(300, 4000)) / 100),
                "currency": "USD",
            }
        )
    products = Product.objects.bulk_create(
        Product(
            tenant=tenant,
            sku=f["sku"],
            name=f["name"],
            description=f["description"],
            destination="US",
            country_of_origin=f["country_of_origin"],
        )
        for f in facts
    )
    versions = ProductVersion.objects.bulk_create(
        ProductVersion(product=p, n=1, facts=f, sha256=catalog_facts.facts_sha256(f))
        for p, f in zip(products, facts, strict=True)
    )
    for product, version in zip(products, versions, strict=True):
        product.current_version = version
    Product.objects.bulk_update(products, ["current_version"])
    return products


def _duty(code: str, value: Decimal) -> dict:
    return {"total": str((value * RATES[code] / 100).quantize(Decimal("0.01"))), "currency": "USD"}


def _evidence(goods, confidence: float, value: Decimal, declared: bool) -> dict:
    """What the engine would have recorded: the pack rule's code first, the right code as the
    runner-up where they differ, and the duty of each, and of the code the catalog declared."""
    name, _, _, rule, machine, right = goods
    candidates = [
        {
            "code": machine,
            "score": confidence,
            "description": name,
            "rationale": f"Pack rule {rule} matched the description.",
            "declarable": True,
            "duty": _duty(machine, value),
            "sources": [
                {"kind": "rule", "ref": rule, "weight": 0.6, "detail": {}},
                {"kind": "search", "ref": "search", "weight": 0.3, "detail": {}},
            ],
        }
    ]
    if right != machine:
        candidates.append(
            {
                "code": right,
                "score": round(confidence - 0.04, 4),
                "description": name,
                "rationale": "",
                "declarable": True,
                "duty": _duty(right, value),
                "sources": [{"kind": "search", "ref": "search", "weight": 0.3, "detail": {}}],
            }
        )
    duty = {"selected": _duty(machine, value)}
    if declared:
        code = DECLARED[right]
        duty["declared"] = {"estimate": {"code": code, "computable": True, **_duty(code, value)}}
    return {"candidates": candidates, "rejected": [], "reasons": [], "flags": {}, "duty": duty,
            "explanation": NOTE}  # fmt: skip


def _decisions(tenant, pack, products, plan, rng) -> list:
    versions = dict(ProductVersion.objects.filter(product__in=products).values_list("pk", "facts"))
    with _dated(ClassificationRequest, Job, Decision):
        requests = ClassificationRequest.objects.bulk_create(
            ClassificationRequest(
                tenant=tenant,
                group=uuid.UUID(int=rng.getrandbits(128), version=4),
                source="ui",
                product_count=1,
                created_at=when,
            )
            for _, when in plan
        )
        jobs = Job.objects.bulk_create(
            Job(
                request=r,
                tenant=tenant,
                product=p,
                product_version_id=p.current_version_id,
                status=JobStatus.DONE,
                attempts=1,
                created_at=when,
                finished_at=when,
            )
            for r, p, (_, when) in zip(requests, products, plan, strict=True)
        )
        rows = []
        for job, (goods, when) in zip(jobs, plan, strict=True):
            value = Decimal(str(versions[job.product_version_id]["customs_value"]))
            blocked = rng.random() < 0.05
            confidence = round(rng.uniform(0.55, 0.99), 3)
            outcome = (
                Outcome.BLOCKED
                if blocked
                else Outcome.CLASSIFIED
                if confidence >= 0.82
                else Outcome.NEEDS_REVIEW
            )
            rows.append(
                Decision(
                    tenant=tenant,
                    job=job,
                    attempt=1,
                    product_id=job.product_id,
                    product_version_id=job.product_version_id,
                    rule_pack=pack,
                    rule_pack_version=pack.version,
                    rule_pack_sha256=pack.sha256,
                    jurisdiction="US",
                    engine_version="demo-history",
                    selected_code="" if blocked else goods[4],
                    confidence=0.0 if blocked else confidence,
                    outcome=outcome,
                    reasons=["no_candidate"] if blocked
                    else [] if outcome == Outcome.CLASSIFIED else ["low_confidence"],
                    risk_band=rng.choice(["low", "low", "medium", "high"]),
                    duty_total=None if blocked
                    else Decimal(_duty(goods[4], value)["total"]),
                    duty_currency="USD",
                    evidence={"candidates": [], "explanation": NOTE} if blocked
                    else _evidence(goods, confidence, value, rng.random() < 0.4),
                    created_at=when,
                )
            )  # fmt: skip
        return Decision.objects.bulk_create(rows)


VERBS = {
    "accept": "accepted",
    "override": "overridden",
    "system_finalize": "finalized",
    "spot_check": "spot_checked",
    "escalate": "escalated",
    "request_info": "info_requested",
}


def _review(tenant, people, decisions, states, plan, rng, now) -> list[dict]:
    """Decide every item as the broker (and the lead, for escalations) would have, hours or
    days after its decision and never later than a minute ago; return the audit entries."""
    actions, events = [], []
    by_pk = {s.pk: s for s in states}
    latest = now - dt.timedelta(minutes=1)
    for decision, (goods, when) in zip(decisions, plan, strict=True):
        state = by_pk[decision.pk]
        at = when
        for kind, who, extra in _steps(state, decision, goods[5], rng, people["lead"]):
            at = min(at + dt.timedelta(hours=rng.choice([1, 2, 3, 5, 8, 20, 30, 50])), latest)
            state.version += 1
            actions.append(
                ReviewAction(
                    tenant=tenant,
                    decision=decision,
                    actor=people[who] if who else None,
                    kind=kind,
                    version=state.version,
                    code="" if kind == "escalate" else state.final_code,
                    note=NOTE,
                    created_at=at,
                    **extra,
                )
            )
            events.append(
                {
                    "actor": None,
                    "actor_label": LABEL,
                    "verb": f"classification.review.{VERBS[kind]}",
                    "target": decision,
                    "data": {"code": state.final_code, "demo_history": True,
                             "at": at.isoformat()},
                }
            )  # fmt: skip
            if kind in FINALIZING:
                state.decided_at = at
                state.decided_by = people[who] if who else None
        state.updated_at = at
    ReviewState.objects.bulk_update(
        states,
        ["status", "queue", "route", "final_code", "decided_by", "decided_at", "spot_check",
         "version", "updated_at"],
    )  # fmt: skip
    with _dated(ReviewAction):
        ReviewAction.objects.bulk_create(actions)
    products = Product.objects.in_bulk([s.product_id for s in states])
    for s in states:
        products[s.product_id].classification_status = ClassificationStatus.FINAL
        products[s.product_id].final_code = s.final_code
    Product.objects.bulk_update(products.values(), ["classification_status", "final_code"])
    return events


FINALIZING = ("accept", "override", "system_finalize")


def _steps(state, decision, right: str, rng, lead) -> list[tuple[str, str | None, dict]]:
    """Finalize ``state`` as its review went; return the actions (kind, who: ``broker``,
    ``lead`` or None for the pack's authority, fields)."""
    roll = rng.random()
    state.status, state.final_code, state.queue = ReviewStatus.FINAL, right, ReviewQueue.FINAL
    decide = "accept" if decision.selected_code == right else "override"
    fields = {"reason_code": "other"} if decide == "override" else {}
    if lead is not None and (decision.outcome == Outcome.BLOCKED or roll < 0.07):
        # Escalated by the broker, decided by the compliance lead.
        state.route = "compliance"
        return [("escalate", "broker", {"route": "compliance"}), (decide, "lead", fields)]
    if decision.outcome == Outcome.CLASSIFIED and decision.selected_code == right and roll < 0.4:
        # Finalized on the pack's authority; a share sampled and confirmed in a spot check.
        state.spot_check = rng.choice([SpotCheck.CONFIRMED, SpotCheck.CONFIRMED, ""])
        steps = [("system_finalize", None, {})]
        if state.spot_check == SpotCheck.CONFIRMED:
            steps.append(("spot_check", "broker", {}))
        return steps
    return [(decide, "broker", fields)]
