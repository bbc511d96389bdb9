from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tariffs import codes, parsers
from tests.tariffs.conftest import FIXTURES


@given(
    st.sampled_from(codes.VALID_LENGTHS).flatmap(
        lambda n: st.text("0123456789", min_size=n, max_size=n)
    )
)
def test_formatted_codes_normalise_back_to_their_digits(digits):
    assert codes.normalise(codes.fmt(digits)).digits == digits
    assert codes.normalise(" ".join(digits)).digits == digits


def test_ancestors_run_from_the_chapter_down():
    assert codes.ancestors("8507600030") == ["85", "8507", "850760", "85076000"]


def test_a_https_source_is_read_through_the_network_layer():
    body = (FIXTURES / "section232_small.csv").read_bytes()
    response = mock.MagicMock()
    response.__enter__.return_value.read.return_value = body
    with mock.patch("urllib.request.urlopen", return_value=response) as urlopen:
        source = parsers.read_source("https://example.test/lists/section232.csv")
    urlopen.assert_called_once_with("https://example.test/lists/section232.csv", timeout=60)
    assert source.name == "section232.csv" and source.data == body


@pytest.mark.parametrize("location", ["http://example.test/x.csv", "ftp://example.test/x.csv"])
def test_other_schemes_are_refused(location):
    with pytest.raises(parsers.SourceError, match="only https:// URLs or file paths"):
        parsers.read_source(location)


def test_a_missing_file_is_named():
    with pytest.raises(parsers.SourceError, match=r"no such file: /nowhere\.csv"):
        parsers.read_source("/nowhere.csv")
