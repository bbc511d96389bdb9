import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from audit import canonical

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


def _streamed(value) -> str:
    parts: list[str] = []
    canonical.write(value, parts.append)
    return "".join(parts)


@given(json_values)
def test_streaming_writes_exactly_the_canonical_text(value):
    assert _streamed(value) == canonical.dumps(value)


def test_iterators_reached_through_dicts_stream_as_lists():
    rows = [{"b": Decimal("1.50"), "a": dt.datetime(2026, 11, 22, tzinfo=dt.UTC)}, {"é": None}]
    lazy = {"z": 1, "sections": {"decisions": iter(rows), "packs": []}}
    eager = {"z": 1, "sections": {"decisions": rows, "packs": []}}
    assert _streamed(lazy) == canonical.dumps(eager)
    assert '"b":"1.50"' in canonical.dumps(eager)
