"""Evidence is stored as JSON: ``jsonable`` turns engine values into JSON-safe data."""

import json
from decimal import Decimal
from enum import Enum

from classification.engine.types import Evidence, Rejected, jsonable


class Colour(Enum):
    RED = "red"


def test_engine_values_become_plain_json_with_stable_forms():
    value = {
        "evidence": (Evidence("rule", "R1", 0.1234567, {"terms": ("cotton", "knit")}),),
        "rejected": [Rejected("6110300000", 0.2, "lower_score", "")],
        3: Decimal("12.50"),
        "colour": Colour.RED,
        "codes": {"b", "a"},
        "frozen": frozenset({2, 1}),
        "none": None,
        "flag": True,
        "count": 7,
        "other": object,
    }
    data = jsonable(value)
    assert data == {
        "evidence": [
            {
                "kind": "rule",
                "ref": "R1",
                "weight": 0.123457,
                "detail": {"terms": ["cotton", "knit"]},
            }
        ],
        "rejected": [{"code": "6110300000", "score": 0.2, "reason": "lower_score", "detail": ""}],
        "3": "12.50",
        "colour": "red",
        "codes": ["a", "b"],
        "frozen": [1, 2],
        "none": None,
        "flag": True,
        "count": 7,
        "other": "<class 'object'>",
    }
    assert json.loads(json.dumps(data)) == data
    assert jsonable(value) == data  # the second call takes the cached dataclass path
