"""In the browser: a compliance lead uploads a draft, sees the failing gate pinpointed, fixes it,
backtests, previews the impact and activates; the previous pack is retired and still readable."""

import pytest
from playwright.sync_api import expect

from rulepacks.models import RulePack
from tests.rulepacks.conftest import cases_toml, real_pack_source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_lead_takes_a_draft_to_active_in_the_browser(
    page, live_server, make_pack, lead, tmp_path
):
    previous = make_pack(stage="active")
    broken = real_pack_source().replace('version = "1"', 'version = "2"')
    broken = broken.replace("confidence = 0.9\n", "confidence = 1.4\n", 1)
    bad_line = broken.splitlines().index("confidence = 1.4") + 1
    (tmp_path / "pack.toml").write_text(broken)
    (tmp_path / "cases.toml").write_bytes(cases_toml(12))

    page.goto(f"{live_server.url}/accounts/login/?next=/t/acme/rulepacks/new/")
    page.get_by_label("Username").fill(lead.username)
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("or upload a .toml file").set_input_files(str(tmp_path / "pack.toml"))
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()

    page.get_by_role("button", name="Validate (run the gates)").click()
    expect(page.get_by_role("link", name=f"line {bad_line}")).to_be_visible()
    expect(page.locator("#gate-report")).to_contain_text(
        'rule "knit-sweater": confidence 1.4 is above 1'
    )
    expect(page.locator(f"#L{bad_line}.problem")).to_contain_text("confidence = 1.4")

    page.get_by_role("link", name="Edit the source").click()
    editor = page.get_by_label("Source (TOML)")
    editor.fill(editor.input_value().replace("confidence = 1.4", "confidence = 0.9"))
    page.get_by_role("button", name="Save draft").click()
    page.get_by_label("Backtest set (.xlsx or .toml)").set_input_files(str(tmp_path / "cases.toml"))
    page.get_by_role("button", name="Upload backtest set").click()
    expect(page.get_by_text("12 backtest cases attached.")).to_be_visible()
    page.get_by_role("button", name="Validate (run the gates)").click()
    expect(page.get_by_text("All gates pass")).to_be_visible()

    page.get_by_role("button", name="Run backtest").click()
    expect(page.get_by_role("heading", name="Per-rule precision")).to_be_visible()
    page.get_by_role("link", name="← Pack").click()

    page.get_by_role("link", name="Diff and impact preview").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        f"against the active pack #{previous.pk}"
    )
    expect(page.locator("pre.diff")).to_contain_text('+version = "2"')
    page.go_back()

    draft = RulePack.objects.exclude(pk=previous.pk).get()
    page.get_by_role("link", name="Activate…").click()
    page.get_by_label("Type the pack's short hash").fill(draft.short_hash)
    page.get_by_role("button", name=f"Activate pack #{draft.pk}").click()
    expect(page.get_by_text(f"Pack #{draft.pk} is active.")).to_be_visible()

    page.goto(f"{live_server.url}/t/acme/rulepacks/{previous.pk}/")
    expect(page.locator("h1")).to_contain_text("Retired")
    expect(page.get_by_text(previous.sha256)).to_be_visible()
