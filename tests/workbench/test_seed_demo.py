"""seed_demo seeds a new tenant once, leaves what people made or changed, and names no person.

The real demo data takes about 70 s (US schedules, the embedding index); these tests run the
same command over small stand-ins: the test schedule, the test pack, a two-product season.
"""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from audit.models import AuditEvent
from classification import demo as classification_demo
from classification.models import ClassificationRequest, ReviewState
from insights import demo_history as insights_demo_history
from rulepacks import demo as rulepacks_demo
from rulepacks import selectors as rulepack_selectors
from rulepacks import services as rulepack_services
from tariffs import demo as tariffs_demo
from tests.rulepacks.conftest import cases_toml, load_schedule, real_pack_source
from tests.rulepacks.fakes import PACK_HEAD
from workbench import demo, services
from workbench.models import Membership, Tenant
from workbench.roles import Role

HISTORY = """\
Part Number,Name,Description,COO,Materials,Intended Use,Product Type,Destination,Final code
H25-TS-0901,Men's jersey tee,"Men's knitted short-sleeve T-shirt of cotton",BD,cotton,Casual \
wear,T-shirt,US,6109.10.0012
H25-SW-0902,Men's pullover,"Men's knitted pullover sweater of cotton",VN,cotton,Casual \
wear,Sweater,US,6110.30.3059
"""


@pytest.fixture
def small_demo(db, settings, monkeypatch, tmp_path):
    settings.TARIFF_DATA_DIR = ""
    monkeypatch.setattr(tariffs_demo, "_start_distilling", lambda: None)
    monkeypatch.setattr(classification_demo, "_embed_schedule", lambda out: None)
    # The dashboard's weeks of history are tested on their own (tests/insights/test_demo_history).
    monkeypatch.setattr(insights_demo_history, "seed_history", lambda tenants, out: None)
    load_schedule()
    (tmp_path / "pack.toml").write_text(real_pack_source(), encoding="utf-8")
    (tmp_path / "cases.toml").write_bytes(cases_toml())
    (tmp_path / "history.csv").write_text(HISTORY, encoding="utf-8")
    monkeypatch.setattr(rulepacks_demo, "DEMO_PACK", tmp_path / "pack.toml")
    monkeypatch.setattr(rulepacks_demo, "DEMO_CASES", tmp_path / "cases.toml")
    monkeypatch.setattr(classification_demo, "HISTORY_FILE", tmp_path / "history.csv")


def seed() -> list[AuditEvent]:
    """Run seed_demo; return the audit events it appended."""
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    call_command("seed_demo", stdout=io.StringIO())
    return list(AuditEvent.objects.filter(pk__gt=last).order_by("pk"))


def activate_own_pack(lead, tenant):
    head = PACK_HEAD.replace('"Test pack"', '"Acme own pack"')
    pack = rulepack_services.rulepack_create(
        actor=lead, tenant=tenant, jurisdiction="US", source=real_pack_source(head=head)
    )
    pack = rulepack_services.rulepack_cases_upload(
        actor=lead, pack=pack, filename="cases.toml", content=cases_toml()
    )
    pack = rulepack_services.rulepack_validate(actor=lead, pack=pack)
    pack = rulepack_services.rulepack_backtest(actor=lead, pack=pack)
    return rulepack_services.rulepack_activate(actor=lead, pack=pack)


def test_a_second_run_leaves_the_pack_and_members_people_changed(small_demo):
    events = seed()
    acme = Tenant.objects.get(slug="acme")
    seeded_pack = rulepack_selectors.active_pack(acme, "US")
    assert rulepacks_demo.is_demo_pack(seeded_pack)
    users = {u.username: u for u in get_user_model().objects.all()}
    own = activate_own_pack(users["compliance"], acme)
    services.membership_set(actor=users["admin"], tenant=acme, user=users["broker"], role="analyst")

    events += seed()

    assert rulepack_selectors.active_pack(acme, "US").pk == own.pk
    assert own.activated_by == users["compliance"]
    assert Membership.objects.get(tenant=acme, user=users["broker"]).role == Role.ANALYST
    verbs = {e.verb for e in events}
    assert {
        "workbench.tenant.created",
        "workbench.membership.created",
        "catalog.import.completed",
        "rulepacks.rulepack.activated",
        "classification.request.created",
        "classification.review.accepted",
        "classification.review.overridden",
    } <= verbs
    humans = [(e.verb, e.actor_label) for e in events if e.actor_id is not None]
    assert humans == []
    assert {e.actor_label for e in events} == {demo.DEMO_ACTOR}


def test_the_seeded_season_is_the_brokers_history_and_the_pack_nobodys(small_demo):
    seed()
    acme = Tenant.objects.get(slug="acme")
    pack = rulepack_selectors.active_pack(acme, "US")
    assert pack.created_by is None and pack.activated_by is None
    broker = get_user_model().objects.get(username="broker")
    finals = ReviewState.objects.filter(tenant=acme, status="final")
    assert sorted(finals.values_list("final_code", flat=True)) == ["6109100012", "6110303059"]
    assert {s.decided_by for s in finals} == {broker}  # precedents a person stands behind
    assert not ClassificationRequest.objects.filter(requested_by__isnull=False).exists()


def test_the_catalog_is_not_queued_for_a_tenant_with_its_own_pack(small_demo, cast):
    lead = cast.users[Role.COMPLIANCE_LEAD]
    activate_own_pack(lead, cast.tenant)
    out = io.StringIO()
    rulepacks_demo.activate_demo_pack({"acme": cast.tenant}, out)
    classification_demo.classify_demo_catalog({"acme": cast.tenant}, out)
    assert rulepack_selectors.active_pack(cast.tenant, "US").created_by == lead
    assert not ClassificationRequest.objects.filter(tenant=cast.tenant).exists()
