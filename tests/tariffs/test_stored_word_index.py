"""The schedule's BM25 word index is built once per machine and read back by every worker: the
same ranking from the file as from a fresh build, a new file for new documents, and a damaged
or missing file built again rather than trusted."""

import datetime as dt

import numpy as np
import pytest

from tariffs import bm25, derived, reference
from tests.tariffs.conftest import load_small

pytestmark = pytest.mark.django_db

QUERIES = ["lithium ion battery", "knitted sweater of cotton", "articles of china", "zeppelin"]


@pytest.fixture
def var_dir(settings, tmp_path):
    """A machine with nothing stored: indexes are written into a fresh ``var/search``."""
    settings.VAR_DIR = tmp_path
    return tmp_path / "search"


@pytest.fixture
def builds(monkeypatch):
    """Count the indexes built from documents (not read from a file)."""
    built = []
    build = bm25.SearchIndex.__init__

    def counted(self, documents):
        built.append(len(documents))
        build(self, documents)

    monkeypatch.setattr(bm25.SearchIndex, "__init__", counted)
    return built


def ranked(ref) -> list:
    return [ref.search(query, limit=20) for query in QUERIES] + [
        ref.search("lithium ion battery", limit=5, boost={"battery": 2.0})
    ]


def fresh(jurisdiction="US") -> reference.Reference:
    """The same schedule as another worker would see it: a new Reference, nothing in memory."""
    reference.clear_cache()
    return reference.get_reference(jurisdiction)


def test_a_second_worker_reads_the_index_the_first_one_built(us_small, var_dir, builds):
    first = ranked(us_small)
    assert len(builds) == 1 and len(list(var_dir.glob("bm25-*.npz"))) == 1
    second = fresh()
    assert second is not us_small
    assert ranked(second) == first
    assert len(builds) == 1  # read from the file, not built again


def test_the_stored_index_ranks_exactly_as_a_fresh_build(real_2026):
    documents = [
        (line.code, f"{line.full_description} {real_2026.hs_description(line.code)}")
        for line in real_2026.lines()
        if line.declarable and not line.code.startswith(reference.SPECIAL_CHAPTERS)
    ]
    built = bm25.SearchIndex(documents)
    stored = bm25.SearchIndex.from_arrays(built.to_arrays())
    for query in ["lithium ion battery", "men's knitted pullover of cotton", "stainless knife"]:
        assert stored.rank(query, 60) == built.rank(query, 60)
        boost = {"knife": 3.0}
        assert stored.rank(query, 60, boost) == built.rank(query, 60, boost)


def test_a_new_revision_gets_its_own_index(us_small, var_dir, builds):
    us_small.search("batteries")
    load_small("2026 Rev 5", "usitc_2025_small.csv", dt.date(2026, 3, 1))
    renewed = fresh()
    assert renewed.revision == "2026 Rev 5"
    renewed.search("batteries")
    assert len(builds) == 2 and len(list(var_dir.glob("bm25-*.npz"))) == 2


def test_changed_documents_or_code_change_the_key():
    documents = [("8507600010", "Lithium-ion batteries"), ("6110202010", "Sweaters of cotton")]
    key = bm25.fingerprint(documents)
    assert bm25.fingerprint(list(documents)) == key
    assert bm25.fingerprint([documents[0], ("6110202010", "Sweaters of wool")]) != key
    assert bm25.fingerprint(documents[:1]) != key
    # Fields cannot run into each other: moving a character between them is another key.
    assert bm25.fingerprint([("85", "07 x")]) != bm25.fingerprint([("8507", " x")])


@pytest.mark.parametrize(
    "damage",
    [b"", b"not a zip file", "truncated"],
    ids=["empty", "garbage", "truncated"],
)
def test_a_damaged_index_file_is_built_again(us_small, var_dir, builds, damage):
    expected = ranked(us_small)
    [path] = var_dir.glob("bm25-*.npz")
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2] if damage == "truncated" else damage)
    assert ranked(fresh()) == expected
    assert len(builds) == 2
    assert path.read_bytes() == whole  # written whole again
    assert not list(var_dir.glob("*.tmp.npz"))


def test_a_stored_index_that_does_not_fit_together_is_built_again(us_small, var_dir, builds):
    expected = ranked(us_small)
    [path] = var_dir.glob("bm25-*.npz")
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    np.savez(path, **(arrays | {"offsets": arrays["offsets"][:-1]}))
    assert ranked(fresh()) == expected
    assert len(builds) == 2


def test_an_unwritable_var_dir_still_gives_a_working_index(us_small, var_dir, builds, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", full_disk)
    assert us_small.search("lithium ion battery")[0].code.startswith("85076000")
    assert not list(var_dir.glob("*.npz"))  # nothing half-written left behind


def test_a_worker_that_finds_the_file_written_while_it_waited_reads_it(tmp_path, monkeypatch):
    # Two workers start at once: both miss the file, one builds it under the lock while the
    # other waits; the second must then read the first one's file, not build its own.
    path = tmp_path / "x.npz"
    read = derived._read
    checks = []

    def other_worker_wrote_it_meanwhile(path_, load):
        checks.append(path_)
        if len(checks) == 1:
            np.savez(path_, a=np.arange(3))
            return None  # what the first look saw: no file yet
        return read(path_, load)

    monkeypatch.setattr(derived, "_read", other_worker_wrote_it_meanwhile)

    def build():
        raise AssertionError("built although another worker had written the file")

    assert derived.load_or_build(path, build, lambda arrays: arrays["a"].tolist()) == [0, 1, 2]
    assert len(checks) == 2
