"""Follow-up fixtures: the review fixtures, and an item whose broker asked for materials."""

import pytest

from classification.review import services as review_services
from tests.classification.conftest import make_products  # noqa: F401 (fixture)
from tests.classification.review.conftest import (  # noqa: F401 (fixtures)
    _fresh_reference_cache,
    make_decision,
    us_schedule,
)
from workbench.roles import Role

QUESTION = "Is the shell cotton or acrylic? Give the share by weight."


@pytest.fixture
def asked(cast, make_decision):  # noqa: F811
    """A review item whose broker asked the analysts for the product's materials."""

    def ask(facts=("materials",), tenant=None):
        state = make_decision(tenant=tenant)
        broker = cast.users[Role.BROKER] if tenant is None else None
        review_services.review_request_info(
            actor=broker or cast.outsider,
            state=state,
            version=state.version,
            missing_facts=list(facts),
            message=QUESTION,
        )
        state.refresh_from_db()
        return state

    return ask
