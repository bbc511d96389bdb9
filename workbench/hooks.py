"""Reactions to catalog changes, durable: queued on commit, recorded when they fail.

The catalog announces that a product's facts changed (``product_changed``) or that an import
gave existing products new versions (``catalog_imported``, once per import). After its
transaction commits, one django-q2 task (``react``) per app implementing the
matching extension point (``on_product_changed``, ``on_catalog_imported``) runs the app's
reaction in its own transaction, so it never sees, or undoes, a change that did not happen and
one app's failure leaves the others' work done. A reaction that raises is recorded as a
``ReactionFailure`` (shown beside dead jobs) and re-raised for the worker's log; the app's own
sweep redoes what was missed (classification: ``classification.sweep``) and marks the tenant's
failures recovered (``failures_recovered``).
"""

import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from workbench import extension_points
from workbench.models import ReactionFailure

log = logging.getLogger(__name__)

REACT_TASK = "workbench.hooks.react"
ERROR_CHARS = 4000


def product_changed(
    *, actor, product_id: int, tenant_id: int, changed_facts, subject: str = ""
) -> None:
    """After commit, queue every installed app's ``on_product_changed`` for the product
    (``subject`` names it to people if a reaction fails: "product SKU-1")."""
    _queue_on_commit(
        "on_product_changed",
        tenant_id=tenant_id,
        subject=subject or f"product #{product_id}",
        actor_id=getattr(actor, "pk", None),
        kwargs={
            "product_id": product_id,
            "tenant_id": tenant_id,
            "changed_facts": sorted(changed_facts),
        },
    )


def catalog_imported(*, actor, tenant_id: int, batch_id: int, subject: str = "") -> None:
    """After commit, queue every installed app's ``on_catalog_imported`` for an import batch
    that wrote new versions of existing products."""
    _queue_on_commit(
        "on_catalog_imported",
        tenant_id=tenant_id,
        subject=subject or f"import #{batch_id}",
        actor_id=getattr(actor, "pk", None),
        kwargs={"tenant_id": tenant_id, "batch_id": batch_id},
    )


def _queue_on_commit(name: str, *, tenant_id: int, subject: str, actor_id, kwargs: dict) -> None:
    def queue() -> None:
        for config, _method in extension_points.implementers(name):
            async_task(
                REACT_TASK,
                name,
                config.label,
                tenant_id,
                subject,
                actor_id,
                kwargs,
                group="reactions",
            )

    # robust: the change is committed; a broker that cannot take the task is the sweep's to
    # make up for, not an error for the person who saved.
    transaction.on_commit(queue, robust=True)


def react(name: str, app_label: str, tenant_id: int, subject: str, actor_id, kwargs: dict):
    """Run app ``app_label``'s ``name`` reaction in one transaction (the task's body).

    On failure the work is rolled back, a ``ReactionFailure`` is written with the error's
    message and the error re-raised (the worker logs the traceback and keeps the task as
    failed)."""
    [method] = [m for c, m in extension_points.implementers(name) if c.label == app_label]
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    try:
        with transaction.atomic():
            method(actor=actor, **kwargs)
    except Exception as exc:
        log.exception("%s of %s failed for %s", name, app_label, subject)
        ReactionFailure.objects.create(
            tenant_id=tenant_id,
            hook=name,
            app_label=app_label,
            subject=subject[:200],
            error=f"{type(exc).__name__}: {exc}"[:ERROR_CHARS],
        )
        raise


def failures_recovered(*, app_label: str, before, except_tenant_ids=()) -> int:
    """Mark ``app_label``'s failures from before ``before`` recovered: its sweep, started at
    ``before``, redid whatever they missed, except for ``except_tenant_ids`` (where the sweep
    failed too). Return how many."""
    return (
        ReactionFailure.objects.filter(
            app_label=app_label, recovered_at__isnull=True, failed_at__lt=before
        )
        .exclude(tenant_id__in=except_tenant_ids)
        .update(recovered_at=timezone.now())
    )


def open_failures(tenant, *, app_label: str | None = None) -> QuerySet[ReactionFailure]:
    """Return the tenant's reactions that failed and no sweep has redone yet, newest first."""
    failures = ReactionFailure.objects.filter(tenant=tenant, recovered_at__isnull=True)
    return failures.filter(app_label=app_label) if app_label else failures
