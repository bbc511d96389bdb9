"""The Django admin shows rule packs read-only; the dashboard shows the active packs."""

import pytest
from django.urls import reverse

from tests.factories import UserFactory
from workbench import dashboard

pytestmark = pytest.mark.django_db


def test_the_admin_lists_packs_but_cannot_change_them(make_pack, client):
    pack = make_pack(stage="active")
    admin = UserFactory(username="root")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    assert (
        pack.sha256 in client.get(reverse("admin:rulepacks_rulepack_changelist")).content.decode()
    )
    change = reverse("admin:rulepacks_rulepack_change", args=[pack.pk])
    page = client.get(change)
    assert page.status_code == 200 and 'name="source"' not in page.content.decode()
    assert client.post(change, {"source": "x"}).status_code == 403
    assert client.get(reverse("admin:rulepacks_rulepack_add")).status_code == 403
    delete = reverse("admin:rulepacks_rulepack_delete", args=[pack.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403


def test_the_dashboard_tile_names_the_active_packs(make_pack, cast):
    pack = make_pack(stage="active")
    [tile] = [t for t in dashboard.tiles_for(cast.tenant) if t.label == "Active rule packs"]
    assert tile.value == 1 and tile.hint == f"US {pack.short_hash}"
