"""Calibration per tenant: fits from finalized decisions and backtest cases, used by the worker."""

import io

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from classification import calibrations, runner, selectors, services, tasks
from classification.engine import calibration
from classification.models import CalibrationFit, Decision
from rulepacks import services as rulepack_services
from tests.classification.conftest import (
    RIGHT_FEATURES,
    WRONG_FEATURES,
    finalized_decisions,
)
from tests.rulepacks import conftest as rulepack_fixtures
from workbench.roles import Role


@pytest.fixture(autouse=True)
def _no_wakeups(monkeypatch):
    # Decisions here are written by the test or by an explicit drain, never by on-commit wakes.
    monkeypatch.setattr(tasks, "wake", lambda count=1: None)


@pytest.fixture
def lead(cast):
    return cast.users[Role.COMPLIANCE_LEAD]


@pytest.fixture
def labelled(cast):
    """240 finalized decisions of ``cast.tenant``: half right (a rule found them), half wrong."""

    def make(tenant=None, right=120, wrong=120, older=0):
        return finalized_decisions(
            tenant or cast.tenant, cast.users[Role.BROKER], right=right, wrong=wrong, older=older
        )

    return make


def active_pack(tenant, lead):
    """The rule-pack test pack, with 12 uploaded cases, taken through the gates to active."""
    rulepack_fixtures.load_schedule()
    pack = rulepack_services.rulepack_create(
        actor=lead, tenant=tenant, jurisdiction="US", source=rulepack_fixtures.real_pack_source()
    )
    pack = rulepack_services.rulepack_cases_upload(
        actor=lead, pack=pack, filename="cases.toml", content=rulepack_fixtures.cases_toml(12)
    )
    pack = rulepack_services.rulepack_validate(actor=lead, pack=pack)
    pack = rulepack_services.rulepack_backtest(actor=lead, pack=pack)
    return rulepack_services.rulepack_activate(actor=lead, pack=pack)


def fitted_events(tenant):
    return AuditEvent.objects.filter(tenant=tenant, verb="classification.calibration.fitted")


def test_too_few_labelled_cases_write_nothing_and_say_why(cast, lead, labelled):
    labelled(right=40, wrong=24)

    result = services.calibration_refit(actor=lead, tenant=cast.tenant, jurisdiction="US")

    assert result.fit is None
    assert result.message == "64 labelled cases, 200 needed: the engine's default fit stays in use"
    assert not CalibrationFit.objects.exists()
    assert not fitted_events(cast.tenant).exists()
    assert calibrations.current_calibration(cast.tenant.pk, "US") is None


def test_cases_all_right_write_nothing_and_say_a_fit_needs_both(cast, lead, labelled):
    labelled(right=210, wrong=0)

    result = services.calibration_refit(actor=lead, tenant=cast.tenant, jurisdiction="US")

    assert result.fit is None
    assert "210 labelled cases, all right at 6 digits" in result.message
    assert not CalibrationFit.objects.exists()


def test_decisions_without_features_are_skipped_and_counted(cast, labelled):
    labelled(right=3, wrong=2, older=4)

    cases = calibrations.calibration_cases(cast.tenant.pk, "US")

    assert cases.rows == [(RIGHT_FEATURES, True)] * 3 + [(WRONG_FEATURES, False)] * 2
    assert (cases.decisions, cases.without_features, cases.right) == (5, 4, 3)
    assert cases.summary == (
        "5 finalized decisions, 0 backtest cases (4 older decisions without features skipped)"
    )


def test_decisions_made_final_without_a_person_are_not_labels(cast, labelled):
    from classification.models import ReviewState

    ids = labelled(right=3, wrong=2)
    ReviewState.objects.filter(decision_id__in=ids[:3]).update(decided_by=None)

    cases = calibrations.calibration_cases(cast.tenant.pk, "US")

    assert cases.rows == [(WRONG_FEATURES, False)] * 2


def test_enough_labelled_cases_store_an_audited_fit_that_becomes_current(cast, lead, labelled):
    labelled()

    result = services.calibration_refit(actor=lead, tenant=cast.tenant, jurisdiction="US")

    fit = CalibrationFit.objects.get()
    assert result.fit == fit
    version = f"t{cast.tenant.pk}-US-1"
    assert (fit.version, fit.cases, fit.right, fit.fitted_by) == (version, 240, 120, lead)
    assert fit.source == "240 finalized decisions, 0 backtest cases"
    fitted = calibration.Calibration.from_json(fit.fit)
    # The known feature separates right from wrong: the fit learned it.
    assert fitted.probability(RIGHT_FEATURES) > 0.9 > 0.1 > fitted.probability(WRONG_FEATURES)
    event = fitted_events(cast.tenant).get()
    assert event.actor == lead
    assert event.data["version"] == version
    assert (event.data["cases"], event.data["right"]) == (240, 120)
    assert event.data["ece"] == pytest.approx(fit.ece) and 0 <= fit.ece < 0.1
    assert result.message.startswith(f"Fitted {version} on 240 labelled cases")
    assert calibrations.current_calibration(cast.tenant.pk, "US").version == version


def test_the_worker_uses_the_tenants_fit_and_records_its_version(
    cast, lead, labelled, make_products, django_assert_num_queries
):
    labelled()
    services.calibration_refit(actor=lead, tenant=cast.tenant, jurisdiction="US")
    version = f"t{cast.tenant.pk}-US-1"

    context = selectors.engine_context(cast.tenant.pk, "US")
    assert context.calibration.version == version
    with django_assert_num_queries(1):
        calibrations.current_calibration(cast.tenant.pk, "US")

    product = make_products(1, prefix="NEW")[0]
    services.request_create(actor=lead, tenant=cast.tenant, product_ids=[product.pk])
    runner.drain()
    decision = Decision.objects.get(product=product)
    assert decision.evidence["calibration"]["version"] == version


def test_without_a_fit_the_worker_records_the_engine_default(cast, lead, make_products):
    assert selectors.engine_context(cast.tenant.pk, "US").calibration is None

    product = make_products(1, prefix="NEW")[0]
    services.request_create(actor=lead, tenant=cast.tenant, product_ids=[product.pk])
    runner.drain()

    decision = Decision.objects.get(product=product)
    assert decision.evidence["calibration"]["version"] == calibration.default().version


def test_a_newer_fit_supersedes_the_previous_one_which_stays_unchanged(cast, lead, labelled):
    labelled()
    first = services.calibration_refit(actor=lead, tenant=cast.tenant, jurisdiction="US").fit
    labelled(right=30, wrong=10)

    second = services.calibration_refit(actor=None, tenant=cast.tenant, jurisdiction="US").fit

    assert (first.version, second.version) == (
        f"t{cast.tenant.pk}-US-1",
        f"t{cast.tenant.pk}-US-2",
    )
    assert (second.cases, second.right, second.fitted_by) == (280, 150, None)
    assert calibrations.current_calibration(cast.tenant.pk, "US").version == second.version
    assert CalibrationFit.objects.get(pk=first.pk).cases == 240
    assert fitted_events(cast.tenant).count() == 2


def test_a_stored_fit_cannot_be_changed_or_deleted(cast, lead, labelled):
    labelled()
    fit = services.calibration_refit(actor=lead, tenant=cast.tenant, jurisdiction="US").fit

    with pytest.raises(IntegrityError), transaction.atomic():
        CalibrationFit.objects.filter(pk=fit.pk).update(cases=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        CalibrationFit.objects.filter(pk=fit.pk).delete()


def test_another_tenants_fit_and_decisions_are_never_used(cast, labelled):
    labelled(tenant=cast.other_tenant)
    other = services.calibration_refit(
        actor=cast.outsider, tenant=cast.other_tenant, jurisdiction="US"
    ).fit
    assert other is not None

    assert calibrations.current_calibration(cast.tenant.pk, "US") is None
    assert selectors.engine_context(cast.tenant.pk, "US").calibration is None
    assert calibrations.calibration_cases(cast.tenant.pk, "US").rows == []
    us = {c.jurisdiction: c for c in calibrations.calibrations_in_use(cast.tenant)}["US"]
    assert us.label == f"engine default {calibration.default().version}"
    result = services.calibration_refit(actor=None, tenant=cast.tenant, jurisdiction="US")
    assert result.message == "0 labelled cases, 200 needed: the engine's default fit stays in use"


def test_the_active_packs_backtest_cases_are_classified_and_counted(cast, lead, labelled):
    active_pack(cast.tenant, lead)
    labelled()

    cases = calibrations.calibration_cases(cast.tenant.pk, "US")

    # The pack's golden cases that expect a code, and its 12 uploaded T-shirts.
    assert cases.backtest >= 12
    assert cases.decisions == 240
    assert cases.summary == f"240 finalized decisions, {cases.backtest} backtest cases"
    assert all(features for features, _ in cases.rows[240:])


def test_the_daily_schedule_refits_tenants_with_an_active_pack_only(cast, lead, labelled):
    active_pack(cast.tenant, lead)
    labelled()
    labelled(tenant=cast.other_tenant)  # enough cases, but no active pack

    queued = tasks.refit_calibrations()

    assert queued == 1
    fit = CalibrationFit.objects.get()
    assert (fit.tenant, fit.jurisdiction, fit.fitted_by) == (cast.tenant, "US", None)
    assert fit.source.startswith("240 finalized decisions, ")
    assert fitted_events(cast.tenant).get().actor_label == "calibration refit (system)"


def test_the_refit_is_scheduled_daily(db):
    from django_q.models import Schedule

    tasks.ensure_schedule()
    tasks.ensure_schedule()

    schedule = Schedule.objects.get(name=tasks.REFIT_SCHEDULE_NAME)
    assert (schedule.func, schedule.minutes) == (tasks.REFIT_ALL_TASK, 24 * 60)


def test_the_command_prints_why_nothing_was_fitted(cast, labelled):
    labelled(right=40, wrong=24)
    out = io.StringIO()

    call_command("classification_refit", "--tenant", "acme", "--jurisdiction", "us", stdout=out)

    assert out.getvalue() == (
        "64 labelled cases, 200 needed: the engine's default fit stays in use.\n"
    )


def test_the_command_prints_the_fit_it_stored(cast, labelled):
    labelled()
    out = io.StringIO()

    call_command(
        "classification_refit",
        "--tenant",
        "acme",
        "--jurisdiction",
        "US",
        "--actor",
        cast.users[Role.COMPLIANCE_LEAD].username,
        stdout=out,
    )

    fit = CalibrationFit.objects.get()
    assert out.getvalue().startswith(
        f"Fitted {fit.version} on 240 labelled cases (240 finalized decisions, 0 backtest "
        "cases), 120 right at 6 digits; in-sample expected calibration error "
    )
    assert fit.fitted_by == cast.users[Role.COMPLIANCE_LEAD]


def test_the_command_refuses_an_actor_who_may_not_manage_rule_packs(cast):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="may not manage rule packs"):
        call_command(
            "classification_refit",
            "--tenant",
            "acme",
            "--jurisdiction",
            "US",
            "--actor",
            cast.users[Role.ANALYST].username,
        )


def test_the_decisions_page_says_which_calibration_is_in_use(cast, lead, labelled):
    client = cast.client(Role.ANALYST)
    url = reverse("classification:decisions", args=[cast.tenant.slug])

    page = client.get(url).content.decode()
    assert f"US engine default {calibration.default().version}" in page

    labelled()
    fit = services.calibration_refit(actor=lead, tenant=cast.tenant, jurisdiction="US").fit
    page = client.get(url).content.decode()
    day = timezone.localdate(fit.fitted_at).isoformat()
    assert f"US tenant fit t{cast.tenant.pk}-US-1, 240 cases, fitted {day}" in page


def test_fits_are_numbered_per_jurisdiction(cast, lead, labelled):
    labelled()
    finalized_decisions(cast.tenant, lead, right=120, wrong=120, jurisdiction="EU")

    us = services.calibration_refit(actor=lead, tenant=cast.tenant, jurisdiction="US").fit
    eu = services.calibration_refit(actor=lead, tenant=cast.tenant, jurisdiction="EU").fit

    assert (us.version, eu.version) == (f"t{cast.tenant.pk}-US-1", f"t{cast.tenant.pk}-EU-1")
    assert us.cases == eu.cases == 240


def test_an_unknown_jurisdiction_is_refused(cast, lead):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.calibration_refit(actor=lead, tenant=cast.tenant, jurisdiction="XX")
