"""Tallies are delta rows: concurrent writers never wait for each other, folding keeps the sums."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from classification.models import ReviewTally
from classification.review import tallies
from tests.factories import TenantFactory

DAY = dt.date(2026, 12, 1)


def rows(tenant, figure="open", key="confirm", n=1, amount=0):
    counts = tallies._rows()
    counts[(tenant.pk, DAY, "US", figure, key, "")] = [n, 0, 0, 0.0, Decimal(amount)]
    return counts


def totals(tenant) -> dict:
    found = (
        ReviewTally.objects.filter(tenant=tenant)
        .values_list("figure", "key")
        .annotate(n=Sum("n"), amount=Sum("amount"))
        .order_by("figure", "key")
    )
    return {(f, k): (n, amount) for f, k, n, amount in found}


@pytest.mark.django_db(transaction=True)
def test_a_second_writer_of_the_same_key_does_not_wait_for_the_first_to_commit():
    tenant = TenantFactory()
    written, release, errors = threading.Event(), threading.Event(), []

    def first():
        try:
            with transaction.atomic():
                tallies._write(rows(tenant))
                written.set()
                release.wait(10)
        except Exception as err:
            errors.append(err)
        finally:
            connection.close()

    holder = threading.Thread(target=first)
    holder.start()
    assert written.wait(10)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # An upsert of the same counter row would wait here for the first to commit.
            cursor.execute("SET LOCAL lock_timeout = '2s'")
            tallies._write(rows(tenant, n=2))
    finally:
        release.set()
        holder.join(10)
    assert errors == []
    assert totals(tenant) == {("open", "confirm"): (3, Decimal("0.00"))}


@pytest.mark.django_db
def test_folding_keeps_every_sum_and_drops_keys_that_cancel_out():
    tenant, other = TenantFactory(), TenantFactory()
    for counts in (
        rows(tenant, n=1),
        rows(tenant, n=4),
        rows(tenant, figure="duty", key="known", n=1, amount="12.50"),
        rows(tenant, figure="duty", key="known", n=1, amount="-2.50"),
        rows(tenant, key="spot_check", n=1),
        rows(tenant, key="spot_check", n=-1),
        rows(other, n=7),
        rows(other, n=1),
    ):
        tallies._write(counts)
    before = totals(tenant)

    written = tallies.tally_compact(tenant.pk)

    assert written == 2  # open/confirm and duty/known; spot_check cancelled out
    assert ReviewTally.objects.filter(tenant=tenant).count() == 2
    assert totals(tenant) == {k: v for k, v in before.items() if v[0] or v[1]}
    assert totals(tenant)[("duty", "known")] == (2, Decimal("10.00"))
    # Another tenant's rows are left for its own (or the schedule's) fold.
    assert ReviewTally.objects.filter(tenant=other).count() == 2
    assert tallies.tally_compact() == 1
    assert totals(other) == {("open", "confirm"): (8, Decimal("0.00"))}
    assert tallies.tally_compact() == 0  # nothing left to fold
