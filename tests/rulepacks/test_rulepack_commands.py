"""The rule-pack commands print their report and exit non-zero on failure."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from rulepacks.models import RulePack
from tests.rulepacks.conftest import cases_toml, real_pack_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def files(tmp_path):
    def write(name, content):
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return str(path)

    return write


def run(*args):
    import io

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue() + err.getvalue(), str(error)
    return out.getvalue() + err.getvalue(), None


def test_validate_prints_each_gate_and_stores_a_validated_draft(cast, us_schedule, files, lead):
    pack_file = files("pack.toml", real_pack_source())
    output, error = run(
        "rulepack_validate",
        "--tenant",
        "acme",
        pack_file,
        "--actor",
        lead.username,
        "--cases",
        files("c.toml", cases_toml(12)),
    )
    assert error is None, output
    assert "1. Syntax and schema: PASS" in output and "5. Required output coverage: PASS" in output
    pack = RulePack.objects.get()
    assert (pack.status, pack.created_by, len(pack.backtest_cases)) == ("validated", lead, 12)


def test_validate_exits_non_zero_and_points_at_the_line(cast, us_schedule, files):
    source = real_pack_source().replace("confidence = 0.9\n", "confidence = 1.4\n", 1)
    output, error = run("rulepack_validate", "--tenant", "acme", files("bad.toml", source))
    assert error == f"Rule pack #{RulePack.objects.get().pk} failed its gates."
    line = source.splitlines().index("confidence = 1.4") + 1
    assert f'line {line}: rule "knit-sweater": confidence 1.4 is above 1' in output
    assert "2. Validity: SKIPPED" in output


def test_a_dry_run_stores_nothing(cast, us_schedule, files):
    output, error = run(
        "rulepack_validate", "--tenant", "acme", "--dry-run", files("p.toml", real_pack_source())
    )
    assert error is None and "Dry run: nothing was stored." in output
    assert not RulePack.objects.exists()


def test_unknown_tenants_and_unauthorised_actors_are_refused(cast, us_schedule, files):
    path = files("p.toml", real_pack_source())
    assert run("rulepack_validate", "--tenant", "nope", path)[1] == "No tenant 'nope'."
    error = run("rulepack_validate", "--tenant", "acme", path, "--actor", "acme-broker")[1]
    assert error == "'acme-broker' may not manage rule packs in acme."


def test_backtest_and_activate_report_and_refuse(make_pack, files):
    thin = make_pack(stage="validated", cases=3)
    output, error = run("rulepack_backtest", "--tenant", "acme", "--pack", str(thin.pk))
    assert error == f"Rule pack #{thin.pk} misses the activation thresholds."
    assert "FAIL cases: 13 (needs ≥ 20)" in output
    output, error = run("rulepack_activate", "--tenant", "acme", "--pack", str(thin.pk))
    assert error == f"Rule pack #{thin.pk} was not activated."
    assert "Backtest: backtest cases is 13, needs ≥ 20." in output

    output, error = run(
        "rulepack_backtest",
        "--tenant",
        "acme",
        "--pack",
        str(thin.pk),
        "--cases",
        files("more.toml", cases_toml(12)),
    )
    assert error is None and "PASS accuracy: 1.0" in output
    assert "22 cases measured (production); rule coverage " in output
    assert "routed otherwise than expected" in output  # the default fit reviews rule codes
    output, error = run("rulepack_activate", "--tenant", "acme", "--pack", str(thin.pk))
    assert error is None and f"Rule pack #{thin.pk} is active for acme US" in output
    assert run("rulepack_activate", "--tenant", "globex", "--pack", str(thin.pk))[1] == (
        f"No rule pack #{thin.pk} in globex."
    )
