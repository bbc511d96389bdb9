"""Model fields shared by the apps."""

from django.db import models


class BulkJSONField(models.JSONField):
    """A JSONField whose rows ``bulk_create`` writes as ``VALUES (…), (…)``, not UNNEST arrays.

    On PostgreSQL, Django 5.2 bulk-inserts each column as one array parameter, and psycopg
    adapts array elements in Python, escaping every quote of every JSON document with a regular
    expression: a batch of 25 classification decisions (about 12 KB of evidence each) spent
    longer being quoted than being classified. Django keeps the VALUES form for any field that
    has ``get_placeholder``; this one asks for the plain placeholder.
    """

    def get_placeholder(self, value, compiler, connection):
        return "%s"
