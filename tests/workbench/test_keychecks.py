"""workbench.keychecks: bulk writes check their foreign keys by index, before the block ends."""

import pytest
from django.db import IntegrityError, connection, transaction

from workbench import keychecks


def _setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_seqscan')")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_lookups_are_planned_by_index_inside_the_block_and_as_before_after_it():
    with keychecks.by_index():
        assert _setting() == "off"
    assert _setting() == "on"


@pytest.mark.django_db
def test_a_broken_key_written_in_the_block_fails_when_the_block_ends_not_at_commit():
    with (
        pytest.raises(IntegrityError, match="catalog_product"),
        transaction.atomic(),
        keychecks.by_index(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO catalog_productversion (product_id, n, facts, sha256, created_at) "
            "VALUES (-1, 1, '{}', '', now())"
        )
    # Constraints are deferred again afterwards, as Django expects: the same insert passes
    # until COMMIT (here, until its savepoint is rolled back).
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO catalog_productversion (product_id, n, facts, sha256, created_at) "
            "VALUES (-2, 1, '{}', '', now())"
        )
        cursor.execute("SELECT count(*) FROM catalog_productversion WHERE product_id = -2")
        assert cursor.fetchone()[0] == 1
        transaction.set_rollback(True)
