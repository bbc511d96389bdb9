from django.contrib import admin

from workbench.models import Membership, Tenant


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """Rows written by audited services only: the admin shows them and changes nothing."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "created_at")

    def has_change_permission(self, request, obj=None):
        return False  # tenants and memberships change through audited services only

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Membership)
class MembershipAdmin(ReadOnlyModelAdmin):
    list_display = ("user", "tenant", "role")
    list_filter = ("tenant", "role")
