"""Metering fixtures: the real work's fixtures, borrowed from the apps whose work is counted."""

import pytest

from metering.models import UsageCounter
from tests.classification.conftest import make_products  # noqa: F401 (fixture)
from tests.classification.review.conftest import make_decision, us_schedule  # noqa: F401
from tests.integrations.conftest import (  # noqa: F401
    api_for,
    checker,
    endpoint_for,
    openapi_document,
    receiver,
)


@pytest.fixture
def usage():
    """Return ``read(tenant) -> {metric: value}`` summed over months (tests run in one month)."""

    def read(tenant) -> dict[str, int]:
        totals: dict[str, int] = {}
        for metric, value in UsageCounter.objects.filter(tenant=tenant).values_list(
            "metric", "value"
        ):
            totals[metric] = totals.get(metric, 0) + value
        return totals

    return read
