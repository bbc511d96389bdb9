"""Canonical JSON: one byte sequence per value, so that digests are reproducible.

Keys sorted, no insignificant whitespace, UTF-8, Decimals and datetimes as strings. Used for the
audit hash chain and for audit export snapshots.
"""

import datetime as dt
import json
import uuid
from decimal import Decimal


def _default(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value) -> str:
    """Return the canonical JSON text of ``value``."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default
    )


def dumps_bytes(value) -> bytes:
    """Return the canonical JSON of ``value`` as UTF-8 bytes."""
    return dumps(value).encode("utf-8")


def normalise(value):
    """Return ``value`` as it will read back from a JSON column (Decimals become strings...)."""
    return json.loads(dumps(value))


def _is_lazy(value) -> bool:
    return hasattr(value, "__next__")


def write(value, sink) -> None:
    """Write the canonical JSON of ``value`` to ``sink(text)`` piece by piece.

    Gives exactly the text of ``dumps(value)``, but an iterator may stand in for a list wherever
    it is reached through dictionaries only (``{"decisions": <generator>}``): its items are
    encoded one at a time, so a snapshot of many thousands of decisions never sits in memory
    whole.
    """
    if isinstance(value, dict):
        sink("{")
        for i, key in enumerate(sorted(value)):
            if i:
                sink(",")
            sink(dumps(key))
            sink(":")
            write(value[key], sink)
        sink("}")
    elif _is_lazy(value):
        sink("[")
        for i, item in enumerate(value):
            if i:
                sink(",")
            sink(dumps(item))
        sink("]")
    else:
        sink(dumps(value))
