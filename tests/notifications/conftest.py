from tests.classification.conftest import make_products  # noqa: F401
from tests.classification.review.conftest import make_decision, us_schedule  # noqa: F401
