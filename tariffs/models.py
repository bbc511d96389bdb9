"""Tariff reference data: schedules and lines, agency flags, additional-duty lists, the lexicon.

Reference data is global (not tenant-owned). Every load is one transaction and a loaded row is
never edited or deleted: a PostgreSQL trigger (migration 0003) refuses UPDATE and DELETE. The
current schedule of a jurisdiction is the newest by effective date, so a revision only becomes
current when its whole load has committed.
"""

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import models

HS_JURISDICTION = "HS"
SEARCH_CONFIG = "english"


class LoadedSource(models.Model):
    """Where loaded reference data came from, and who loaded it when."""

    source_name = models.CharField(max_length=300)
    source_sha256 = models.CharField(max_length=64)
    loaded_at = models.DateTimeField()
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        abstract = True


class TariffSchedule(LoadedSource):
    jurisdiction = models.CharField(
        max_length=8, help_text="US, EU, GB… or HS for the WCO nomenclature."
    )
    name = models.CharField(max_length=200)
    revision = models.CharField(max_length=60, help_text="Revision label, e.g. 2026 Rev 4.")
    effective_date = models.DateField()
    has_rates = models.BooleanField(default=True)
    line_count = models.PositiveIntegerField(default=0)
    label_rows = models.PositiveIntegerField(default=0)
    notes = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction", "source_sha256"], name="tariff_schedule_unique_source"
            ),
            models.UniqueConstraint(
                fields=["jurisdiction", "revision"], name="tariff_schedule_unique_revision"
            ),
        ]
        ordering = ["jurisdiction", "-effective_date", "-id"]

    def __str__(self) -> str:
        return f"{self.jurisdiction} {self.revision}"


class TariffLine(models.Model):
    schedule = models.ForeignKey(TariffSchedule, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveIntegerField(help_text="Order in the source file.")
    code = models.CharField(max_length=10, help_text="Digits only.")
    indent = models.PositiveSmallIntegerField()
    description = models.TextField()
    full_description = models.TextField()
    units = models.JSONField(default=list)
    general_text = models.CharField(max_length=500, blank=True)
    special_text = models.CharField(max_length=500, blank=True)
    column2_text = models.CharField(max_length=500, blank=True)
    rate_inherited_from = models.CharField(max_length=10, blank=True)
    general_kind = models.CharField(
        max_length=12, blank=True, help_text="Parsed form of the general rate."
    )
    general_ad_valorem = models.DecimalField(max_digits=9, decimal_places=4, null=True, blank=True)
    quota_text = models.CharField(max_length=200, blank=True)
    additional_text = models.TextField(blank=True)
    declarable = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["schedule", "code"], name="tariff_line_unique_code")
        ]
        indexes = [
            GinIndex(
                SearchVector("full_description", config=SEARCH_CONFIG), name="tariff_line_search"
            ),
        ]
        ordering = ["schedule", "position"]

    def __str__(self) -> str:
        return f"{self.code} {self.description[:60]}"


class ReferenceList(LoadedSource):
    """One loaded flag or measure list (PGA report, Section 301 list, Section 232 annex list)."""

    class Kind(models.TextChoices):
        PGA = "pga", "CBP partner-agency flags"
        SECTION301 = "section301", "Section 301 (China) lists"
        SECTION232 = "section232", "Section 232 annexes"

    jurisdiction = models.CharField(max_length=8, default="US")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    as_of = models.DateField(null=True, blank=True)
    row_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "source_sha256"], name="reference_list_unique_source"
            )
        ]
        ordering = ["kind", "-loaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.source_name})"


class AgencyFlag(models.Model):
    reference_list = models.ForeignKey(
        ReferenceList, on_delete=models.PROTECT, related_name="flags"
    )
    code = models.CharField(max_length=10)
    pga = models.JSONField(default=list)
    antidumping = models.BooleanField(default=False)
    countervailing = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["reference_list", "code"], name="agency_flag_code")]

    def __str__(self) -> str:
        return f"{self.code} {','.join(self.pga)}"


class TradeMeasure(models.Model):
    """An HTS prefix covered by an additional-duty list (Section 301 or 232)."""

    reference_list = models.ForeignKey(
        ReferenceList, on_delete=models.PROTECT, related_name="measures"
    )
    prefix = models.CharField(max_length=10)
    list_name = models.CharField(max_length=40)
    heading = models.CharField(max_length=10, blank=True, help_text="Chapter 99 code, digits only.")
    metal = models.CharField(max_length=20, blank=True)
    effective_date = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["reference_list", "prefix"], name="trade_measure_prefix")]

    def __str__(self) -> str:
        return f"{self.prefix} {self.list_name}"


class Lexicon(LoadedSource):
    """A loaded lexicon of everyday terms ("power bank", "vape") and the codes experts give them.

    Global reference data like a schedule: immutable once loaded (trigger, migration 0004); the
    newest load is current. ``corrections`` records each documented correction applied to the
    source at load (term, what the source said, what was loaded, why).
    """

    name = models.CharField(max_length=200, help_text="Where the terms come from.")
    source_location = models.CharField(
        max_length=1000, blank=True, help_text="Path or URL the file was read from."
    )
    entry_count = models.PositiveIntegerField(default=0)
    corrections = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source_sha256"], name="lexicon_unique_source")
        ]
        ordering = ["-loaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.source_name})"


class LexiconEntry(models.Model):
    """One everyday term and the code prefixes it points at (possibly none: "too many codes")."""

    lexicon = models.ForeignKey(Lexicon, on_delete=models.PROTECT, related_name="entries")
    position = models.PositiveIntegerField(help_text="Order in the source file.")
    term = models.CharField(max_length=500)
    normalised = models.CharField(
        max_length=500, help_text="The term's words as the matcher folds them."
    )
    message = models.TextField(blank=True)
    codes = models.JSONField(
        default=list,
        blank=True,
        help_text='Digit prefixes with their level: [{"code": "8507", "level": "heading"}].',
    )
    too_generic = models.BooleanField(default=False)
    correction = models.TextField(blank=True, help_text="The correction applied at load, if any.")

    class Meta:
        indexes = [models.Index(fields=["lexicon", "normalised"], name="lexicon_entry_term")]
        ordering = ["lexicon", "position"]

    def __str__(self) -> str:
        return self.term
