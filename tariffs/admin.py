"""Loaded reference data is immutable: loads go through the audited management commands."""

from django.contrib import admin

from tariffs.models import Lexicon, ReferenceList, TariffSchedule
from workbench.admin import ReadOnlyModelAdmin


@admin.register(TariffSchedule)
class TariffScheduleAdmin(ReadOnlyModelAdmin):
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
class ReferenceListAdmin(ReadOnlyModelAdmin):
    list_display = ("kind", "source_name", "as_of", "row_count", "loaded_at")
    list_filter = ("kind",)


@admin.register(Lexicon)
class LexiconAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "source_name", "entry_count", "loaded_at", "loaded_by")
