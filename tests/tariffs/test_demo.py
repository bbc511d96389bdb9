import io
import shutil

import pytest

from tariffs import demo, services
from tariffs.models import Lexicon, ReferenceList, TariffSchedule
from tests.tariffs.conftest import FIXTURES

pytestmark = pytest.mark.django_db


def test_without_a_data_directory_the_demo_prints_the_command_that_loads_it(settings):
    settings.TARIFF_DATA_DIR = ""
    out = io.StringIO()
    demo.load_reference_data({}, out)
    assert demo.LOAD_HINT in out.getvalue()
    assert services.current_schedule("US") is None
    assert services.current_schedule("HS").revision == "HS 2022"


def test_with_a_data_directory_the_demo_loads_schedules_and_lists_once(settings, tmp_path):
    # The small fixtures under the published file names stand in for the real directory.
    names = {
        "usitc_2025_small.csv": demo.US_SCHEDULES[0][0],
        "usitc_2026_small.csv": demo.US_SCHEDULES[1][0],
        "pga_small.csv": demo.LISTS[0][0],
        "section301_small.csv": demo.LISTS[1][0],
        "section232_small.csv": demo.LISTS[2][0],
    }
    for fixture, published in names.items():
        shutil.copy(FIXTURES / fixture, tmp_path / published)
    settings.TARIFF_DATA_DIR = str(tmp_path)
    out = io.StringIO()
    demo.load_reference_data({}, out)
    demo.load_reference_data({}, out)
    assert TariffSchedule.objects.filter(jurisdiction="US").count() == 2
    assert services.current_schedule("US").revision == "2026 Rev 4"
    assert ReferenceList.objects.count() == 3
    assert "US 2026 Rev 4 already loaded" in out.getvalue()


def test_the_demo_loads_the_lexicon_once_when_the_file_is_there(settings, tmp_path):
    shutil.copy(FIXTURES / "lexicon_small.csv", tmp_path / demo.LEXICON)
    settings.TARIFF_DATA_DIR = str(tmp_path)
    out = io.StringIO()
    demo.load_reference_data({}, out)
    demo.load_reference_data({}, out)
    assert Lexicon.objects.count() == 1
    assert "lexicon of 12 everyday terms loaded (1 documented correction)" in out.getvalue()
    assert "Tariffs: lexicon already loaded." in out.getvalue()


def test_the_demo_says_when_the_lexicon_file_is_absent(settings, tmp_path):
    settings.TARIFF_DATA_DIR = str(tmp_path)
    out = io.StringIO()
    demo.load_reference_data({}, out)
    assert f"{demo.LEXICON} not found" in out.getvalue() and not Lexicon.objects.exists()
