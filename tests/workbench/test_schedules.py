"""Every app's background schedule exists once migrations have run (``ensure_on_migrate``)."""

from django.core.management import call_command
from django_q.models import Schedule

from audit import tasks as audit_tasks
from catalog import tasks as catalog_tasks
from classification import tasks as classification_tasks
from followup import tasks as followup_tasks
from insights import tasks as insights_tasks
from integrations import tasks as integrations_tasks

NAMES = {
    audit_tasks.SWEEP_SCHEDULE,
    catalog_tasks.SWEEP_SCHEDULE,
    classification_tasks.SCHEDULE_NAME,
    classification_tasks.REFIT_SCHEDULE_NAME,
    classification_tasks.SWEEP_SCHEDULE,
    classification_tasks.COMPACT_SCHEDULE,
    integrations_tasks.SCHEDULE_NAME,
    insights_tasks.DRIFT_SCHEDULE,
    followup_tasks.DIGEST_SCHEDULE,
}


def test_migrate_creates_each_apps_schedule_once(db):
    Schedule.objects.all().delete()
    call_command("migrate", verbosity=0)
    call_command("migrate", verbosity=0)
    names = list(Schedule.objects.values_list("name", flat=True))
    assert sorted(names) == sorted(NAMES)
