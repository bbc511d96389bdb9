"""Products, the versions of their customs facts, and catalog import runs."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from workbench import worker


class ClassificationStatus(models.TextChoices):
    UNCLASSIFIED = "unclassified", "Unclassified"
    QUEUED = "queued", "Queued"
    CLASSIFIED = "classified", "Classified"
    NEEDS_REVIEW = "needs_review", "Needs review"
    BLOCKED = "blocked", "Blocked"
    FINAL = "final", "Final"


class Product(models.Model):
    """A tenant's product, identified by its SKU; its facts live in versions."""

    # Indexed by the (tenant, sku) unique constraint and the (tenant, …) indexes below; one more
    # index on tenant alone would only slow imports down.
    tenant = models.ForeignKey(
        "workbench.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    sku = models.CharField(max_length=64)
    current_version = models.ForeignKey(
        "catalog.ProductVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Denormalised from the current version for lists and filters.
    name = models.CharField(max_length=200)
    description = models.TextField()
    destination = models.CharField(max_length=8)
    country_of_origin = models.CharField(max_length=2)
    classification_status = models.CharField(
        max_length=16,
        choices=ClassificationStatus.choices,
        default=ClassificationStatus.UNCLASSIFIED,
    )
    final_code = models.CharField(max_length=16, blank=True)
    # SHA-256 of the facts the final decision classified; compared with the current version's to
    # find final codes chosen for facts that have changed since. A database default, so bulk
    # imports that do not name the column still write rows.
    final_facts_sha256 = models.CharField(max_length=64, blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "sku"], name="catalog_product_sku_per_tenant")
        ]
        indexes = [
            models.Index(fields=["tenant", "destination"], name="catalog_product_destination"),
            models.Index(fields=["tenant", "classification_status"], name="catalog_product_status"),
        ]
        ordering = ["sku"]

    def __str__(self) -> str:
        return f"{self.sku} — {self.name}"

    @property
    def final_facts_changed(self) -> bool:
        """Whether the final code was chosen for facts other than the current ones. Uses the
        ``current_sha256`` annotation of list queries when present."""
        if self.classification_status != ClassificationStatus.FINAL or not self.final_facts_sha256:
            return False
        current = getattr(self, "current_sha256", None)
        if current is None and self.current_version_id:
            current = self.current_version.sha256
        return current is not None and current != self.final_facts_sha256


class ProductVersion(models.Model):
    """One immutable snapshot of a product's facts; decisions point at the version they used."""

    # Indexed by the (product, n) unique constraint.
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="versions", db_index=False
    )
    n = models.PositiveIntegerField(help_text="1 for the first version of the product.")
    facts = models.JSONField()
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the canonical facts JSON.")
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by edits; imports leave it empty (the batch names who imported). Indexed only where
    # set (below): an index entry per imported version would be paid by every import.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    # Who wrote a version that no user did: a supplier answering through a link.
    author_label = models.CharField(max_length=300, blank=True, default="", db_default="")
    # Versions written by an import name their batch (and through it who imported); the link is
    # not a database constraint because a 100k-row import would pay a trigger per row for it.
    # Batches are never deleted (PROTECT still applies in the ORM).
    import_batch = models.ForeignKey(
        "catalog.ImportBatch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "n"], name="catalog_version_n_per_product")
        ]
        indexes = [
            models.Index(
                fields=["created_by"],
                condition=models.Q(created_by__isnull=False),
                name="catalog_version_edited_by",
            ),
            # What queries look up by batch is the products it changed (n > 1): the first
            # versions of a first import, nearly every row of it, need no entry.
            models.Index(
                fields=["import_batch"],
                condition=models.Q(n__gt=1),
                name="catalog_version_batch_update",
            ),
        ]
        ordering = ["product", "-n"]

    def __str__(self) -> str:
        return f"{self.product.sku} v{self.n}"

    @property
    def author(self):
        """Who wrote this version: the editor, the user who ran its import, or the label of
        what wrote it without a user (``supplier link #3, Jane Roe``)."""
        if self.author_label and not self.created_by_id:
            return self.author_label
        if self.created_by_id or not self.import_batch_id:
            return self.created_by
        return self.import_batch.created_by


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    REFUSED = "refused", "Refused"
    FAILED = "failed", "Failed"
    # Stopped before writing: the file would overwrite facts last set by an edit or the API.
    CONFIRM = "confirm", "Needs confirmation"


class EditsChoice(models.TextChoices):
    """What an import does to products whose current facts came from an edit or the API."""

    KEEP = "keep", "Keep the in-app values"
    OVERWRITE = "overwrite", "Overwrite with the file"


TERMINAL_STATUSES = (ImportStatus.DONE, ImportStatus.REFUSED, ImportStatus.FAILED)


class ImportBatch(models.Model):
    """One catalog file import: its counts, per-row errors and the refused rows themselves."""

    tenant = models.ForeignKey("workbench.Tenant", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(max_length=16, default="upload", help_text="upload, cli or demo")
    filename = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField()
    stored_file = models.CharField(
        max_length=255, blank=True, help_text="Storage name while a background run waits."
    )
    status = models.CharField(
        max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    message = models.TextField(blank=True, help_text="Why the whole file was refused.")
    sheet = models.CharField(max_length=100, blank=True)
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    processed_rows = models.PositiveIntegerField(default=0)
    new_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    refused_count = models.PositiveIntegerField(default=0)
    headers = models.JSONField(default=list, help_text="The file's header row as read.")
    ignored_columns = models.JSONField(default=list)
    # [{"row": 14, "values": [...cells as text...], "errors": [{"column", "message"}]}]
    refused_rows = models.JSONField(default=list)
    kept_count = models.PositiveIntegerField(
        default=0, help_text="Rows not written because the product keeps its in-app facts."
    )
    # Products whose current facts came from an edit or the API and that the file would change:
    # [{"sku", "product_id", "version_id", "version", "edited_by", "edited_at",
    #   "changes": {fact: [in-app value, file value]}}]. Listed while the batch waits for a
    # choice, and kept afterwards as what the choice applied to.
    conflicts = models.JSONField(default=list)
    edits = models.CharField(max_length=16, choices=EditsChoice.choices, blank=True)
    edits_chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    edits_chosen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(
        null=True, blank=True, help_text="When the first run began (a re-run keeps it)."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    runs = models.PositiveSmallIntegerField(
        default=0,
        help_text="Runs begun and not handed back; a run that never ended stopped its worker.",
    )
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life of a background run."
    )

    class Meta:
        indexes = [models.Index(fields=["tenant", "-created_at"], name="catalog_import_recent")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import #{self.pk} {self.filename}"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def accepted_count(self) -> int:
        return self.new_count + self.updated_count + self.unchanged_count + self.kept_count

    @property
    def needs_confirmation(self) -> bool:
        return self.status == ImportStatus.CONFIRM

    @staticmethod
    def stall_window() -> timedelta:
        """How long an unfinished background import may show no sign of life before it is
        given up: as long as every retry of a crashed run could take (a retry window each, up
        to ``IMPORT_MAX_WORKER_CRASHES`` of them)."""
        from workbench.schedules import retry_window

        return retry_window() * (settings.IMPORT_MAX_WORKER_CRASHES + 1)

    @property
    def last_sign_of_life(self):
        """The latest of its heartbeat, first start and creation."""
        return self.heartbeat_at or self.started_at or self.created_at

    @property
    def silent_seconds(self) -> int:
        return max(0, int((timezone.now() - self.last_sign_of_life).total_seconds()))

    @property
    def is_stalled(self) -> bool:
        """Whether a run is under way whose heartbeat has stopped: its worker is gone, and the
        sweep will queue it again or fail it within a minute."""
        return self.status == ImportStatus.RUNNING and worker.is_stale(self.heartbeat_at)

    @property
    def is_abandoned(self) -> bool:
        """Whether an unfinished import has shown no sign of life for the whole stall window
        (no worker took it, or none came back): it will not finish."""
        if self.is_terminal or self.needs_confirmation or self.last_sign_of_life is None:
            return False
        return timezone.now() - self.last_sign_of_life > self.stall_window()

    @property
    def progress_percent(self) -> int:
        if self.is_terminal:
            return 100
        if not self.total_rows:
            return 0
        return min(99, int(100 * self.processed_rows / self.total_rows))
