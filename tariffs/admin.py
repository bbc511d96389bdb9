from django.contrib import admin

from tariffs.models import Lexicon, ReferenceList, TariffSchedule


class ReadOnlyAdmin(admin.ModelAdmin):
    """Loaded reference data is immutable: loads go through the audited management commands."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TariffSchedule)
class TariffScheduleAdmin(ReadOnlyAdmin):
    list_display = (
        "jurisdiction",
        "revision",
        "effective_date",
        "line_count",
        "source_name",
        "loaded_at",
    )
    list_filter = ("jurisdiction",)


@admin.register(ReferenceList)
class ReferenceListAdmin(ReadOnlyAdmin):
    list_display = ("kind", "source_name", "as_of", "row_count", "loaded_at")
    list_filter = ("kind",)


@admin.register(Lexicon)
class LexiconAdmin(ReadOnlyAdmin):
    list_display = ("name", "source_name", "entry_count", "loaded_at", "loaded_by")
