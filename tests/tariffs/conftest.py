"""Tariff test fixtures: small hand-written files imitating the real ones' quirks."""

import datetime as dt
import functools
from pathlib import Path

import pytest

from tariffs import lexicon, parsers, reference, services
from tariffs.models import ReferenceList
from tests.conftest import shared_data_path

FIXTURES = Path(__file__).parent / "fixtures"
REV_2026 = "2026 Rev 4"
REV_2025 = "2025 Rev 13"


def fixture_source(name: str) -> parsers.Source:
    return parsers.read_source(str(FIXTURES / name))


def load_small(revision=REV_2026, name="usitc_2026_small.csv", effective=dt.date(2026, 2, 20)):
    return services.schedule_load_usitc(
        actor=None, source=fixture_source(name), revision=revision, effective_date=effective
    )


def load_small_lists():
    for name, kind in (
        ("pga_small.csv", ReferenceList.Kind.PGA),
        ("section301_small.csv", ReferenceList.Kind.SECTION301),
        ("section232_small.csv", ReferenceList.Kind.SECTION232),
    ):
        services.reference_list_load(actor=None, kind=kind, source=fixture_source(name))


@pytest.fixture(autouse=True)
def _fresh_reference_cache():
    reference.clear_cache()
    lexicon.clear_cache()
    yield
    reference.clear_cache()
    lexicon.clear_cache()


def load_lexicon(name="lexicon_small.csv", **kwargs):
    return services.lexicon_load(source=fixture_source(name), **kwargs)


@pytest.fixture
def lexicon_small(db):
    """The small hand-written lexicon (power bank → 8407, corrected to 8507 at load)."""
    return load_lexicon().obj


@pytest.fixture
def us_small(db):
    """The small 2026 schedule with PGA, Section 301 and 232 lists; returns its Reference."""
    load_small()
    load_small_lists()
    return reference.get_reference("US")


@pytest.fixture
def us_both(db):
    """The small 2025 and 2026 schedules side by side (2026 current), with the lists."""
    load_small(REV_2025, "usitc_2025_small.csv", dt.date(2025, 12, 1))
    load_small()
    load_small_lists()
    return reference.get_reference("US")


# --- real files, parsed without the database (pure), once per session -------------------------


@functools.cache
def _real_reference(name: str, revision: str) -> reference.Reference:
    parsed = parsers.parse_usitc(parsers.read_source(shared_data_path(name)))
    pga = parsers.parse_pga(
        parsers.read_source(shared_data_path("us_cbp_hts_pga_report_2026-02-21.csv"))
    )
    s301 = parsers.parse_section301(
        parsers.read_source(shared_data_path("us_section301_china_product_lists_budgetlab_mit.csv"))
    )
    data = reference.ReferenceData(
        jurisdiction="US",
        revision=revision,
        schedule_id=None,
        national=True,
        has_rates=True,
        lines=[reference.line_from(x) for x in parsed.lines],
        pga={r.code: (r.pga, r.antidumping, r.countervailing) for r in pga.rows},
        measures=[reference.Measure("Section 301", m.list_name, m.heading, m.prefix) for m in s301],
        sources={"section301": "Section 301 list"},
    )
    return reference.Reference(data)


@pytest.fixture
def real_2026():
    """The real 2026 Rev 4 schedule with real PGA and Section 301 lists, as a pure Reference."""
    shared_data_path("us_htsus_2026_rev4_usitc_export.csv")
    return _real_reference("us_htsus_2026_rev4_usitc_export.csv", REV_2026)
