"""The rule-pack format: text normalisation, TOML parsing with schema checks, compilation.

Pure Python, no ORM: ``parse(source)`` returns a ``ParseResult`` whose ``pack`` is a frozen
``CompiledPack`` (or ``None``) and whose ``problems`` name the line and rule id of every error.
"""

from rulepacks.format.compiled import (  # noqa: F401
    CompiledPack,
    Conditions,
    DeniedGood,
    GoldenCase,
    Restriction,
    Rule,
    Term,
    TextCondition,
    Thresholds,
)
from rulepacks.format.parser import ParseResult, Problem, parse  # noqa: F401
