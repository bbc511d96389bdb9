# Over 500 lines: the tables and their choices, as migrations and triggers name them.
"""Classification requests, the leased jobs that carry them out, and the decisions they write.

The ``Job`` table is the truth of background work (django-q2 only wakes workers): a worker claims
jobs with ``SELECT … FOR UPDATE SKIP LOCKED``, each claim increments the fencing ``token``, and a
result commits only while the token it was leased with still holds. A ``Decision`` is immutable
(PostgreSQL trigger) and unique per job, so a retried or duplicated job can never write two.
"""

from django.conf import settings
from django.db import models
from django.db.models import F
from django.db.models.functions import Abs

from workbench.fields import BulkJSONField

MAX_PRODUCTS_PER_REQUEST = 100
CLAIM_BATCH_SIZE = 25
DEFAULT_MAX_ATTEMPTS = 3


class RequestSource(models.TextChoices):
    UI = "ui", "Web"
    CATALOG = "catalog", "Classify catalog"
    CLI = "cli", "Command line"
    API = "api", "API"
    INFO_UPDATE = "info_update", "Facts updated after a request for information"
    FACTS_CHANGED = "facts_changed", "Facts changed while a decision awaited review"
    DEMO = "demo", "Demo data"


class ClassificationRequest(models.Model):
    """Up to 100 products of one tenant to classify; requests made together share a group."""

    tenant = models.ForeignKey("workbench.Tenant", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    group = models.UUIDField(help_text="Shared by the requests of one 'Classify catalog' run.")
    source = models.CharField(max_length=16, choices=RequestSource.choices)
    product_count = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="classif_request_recent"),
            models.Index(fields=["tenant", "group"], name="classif_request_group"),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Request #{self.pk} ({self.product_count} products)"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    LEASED = "leased", "Running"
    DONE = "done", "Done"
    DEAD = "dead", "Dead"


class Job(models.Model):
    """One product of one request: leased by a worker, retried, done once, or dead."""

    request = models.ForeignKey(
        ClassificationRequest, on_delete=models.PROTECT, related_name="jobs"
    )
    tenant = models.ForeignKey("workbench.Tenant", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    product_version = models.ForeignKey(
        "catalog.ProductVersion", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=8, choices=JobStatus.choices, default=JobStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=DEFAULT_MAX_ATTEMPTS)
    token = models.BigIntegerField(default=0, help_text="Fencing token, incremented per claim.")
    lease_owner = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["request", "product"], name="classif_job_once_per_request"
            )
        ]
        indexes = [
            # The claim query scans only open jobs, oldest first.
            models.Index(
                fields=["id"],
                name="classif_job_open",
                condition=models.Q(status__in=["queued", "leased"]),
            ),
            models.Index(fields=["tenant", "status"], name="classif_job_tenant_status"),
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Job #{self.pk} ({self.status})"


class Outcome(models.TextChoices):
    CLASSIFIED = "classified", "Classified"
    NEEDS_REVIEW = "needs_review", "Needs review"
    BLOCKED = "blocked", "Blocked"


class RiskBand(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class Decision(models.Model):
    """The engine's evidence record for one job. Immutable; a broker's action makes it final."""

    tenant = models.ForeignKey("workbench.Tenant", on_delete=models.PROTECT, related_name="+")
    job = models.OneToOneField(Job, on_delete=models.PROTECT, related_name="decision")
    attempt = models.PositiveIntegerField()
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    product_version = models.ForeignKey(
        "catalog.ProductVersion", on_delete=models.PROTECT, related_name="+"
    )
    rule_pack = models.ForeignKey(
        "rulepacks.RulePack", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rule_pack_version = models.CharField(max_length=100, blank=True)
    rule_pack_sha256 = models.CharField(max_length=64, blank=True)
    jurisdiction = models.CharField(max_length=8)
    schedule_revision = models.CharField(max_length=100, blank=True)
    engine_version = models.CharField(max_length=40)
    selected_code = models.CharField(max_length=16, blank=True)
    confidence = models.FloatField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    reasons = BulkJSONField(default=list, help_text="Reason codes (DESIGN §5).")
    risk_band = models.CharField(max_length=8, choices=RiskBand.choices)
    duty_total = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    duty_currency = models.CharField(max_length=3, blank=True)
    evidence = BulkJSONField(help_text="The engine's full decision: candidates, rejected, duty.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "outcome", "-created_at"], name="classif_dec_outcome"),
            models.Index(fields=["tenant", "product", "-created_at"], name="classif_dec_product"),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Decision #{self.pk} {self.selected_code or '—'} ({self.outcome})"

    @property
    def candidates(self) -> list:
        return self.evidence.get("candidates", [])

    @property
    def rejected(self) -> list:
        return self.evidence.get("rejected", [])

    @property
    def reason_details(self) -> list:
        return self.evidence.get("reasons", [])


# --- Review (issue 7): the broker's actions and the state they derive ----------------------


class ReviewStatus(models.TextChoices):
    OPEN = "open", "Open"
    ESCALATED = "escalated", "Escalated"
    INFO_REQUESTED = "info_requested", "Information requested"
    FINAL = "final", "Final"
    SUPERSEDED = "superseded", "Superseded by a newer decision"


class Route(models.TextChoices):
    COMPLIANCE = "compliance", "Compliance"
    LEGAL = "legal", "Legal"
    FINANCE = "finance", "Finance"
    LOGISTICS = "logistics", "Logistics"


class ReviewQueue(models.TextChoices):
    """The queue a review state waits in (``ReviewState.queue``), besides ``escalated_<route>``.

    Not the field's choices: the escalated queues are named from ``Route``, and choices on the
    field would add a migration that changes nothing in the database.
    """

    CONFIRM = "confirm", "Confirm"
    NEEDS_REVIEW = "needs_review", "Needs review"
    BLOCKED = "blocked", "Blocked"
    INFO_REQUESTED = "info_requested", "Info requested"
    SPOT_CHECK = "spot_check", "Spot check"
    FINAL = "final", "Final"
    CLOSED = "closed", "Closed"


class SpotCheck(models.TextChoices):
    """Where a decision finalized on a pack's authority stands in the broker's spot check."""

    PENDING = "pending", "Waiting for a broker"
    CONFIRMED = "confirmed", "Confirmed by a broker"
    CORRECTED = "corrected", "Corrected by a broker"


# The mutable review fields a state's daily tallies depend on (``review.tallies``).
TALLIED_FIELDS = (
    "status",
    "queue",
    "final_code",
    "decided_by_id",
    "decided_at",
    "spot_check",
    "final_bucket",
    "final_duty",
)


class ReviewState(models.Model):
    """The mutable review state of one decision: its queue, assignee and final code.

    A projection of the decision's append-only ``ReviewAction`` rows, kept in step by the review
    services in the same transaction; ``version`` increases with every action, and an action
    carrying an older version is refused (optimistic concurrency). Rows are created by a
    PostgreSQL trigger when a decision is inserted, so every writer of decisions (runner, bulk
    loads) gets exactly one; sort and filter columns are copied there for the queue indexes.
    """

    decision = models.OneToOneField(
        Decision, on_delete=models.PROTECT, related_name="review", primary_key=True
    )
    tenant = models.ForeignKey("workbench.Tenant", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=ReviewStatus.choices)
    # a ReviewQueue, or escalated_<route>
    queue = models.CharField(max_length=24)
    route = models.CharField(max_length=16, choices=Route.choices, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    # Copied from the decision and its product for filters and keyset sorts.
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    risk_rank = models.PositiveSmallIntegerField(help_text="3 high, 2 medium, 1 low.")
    confidence = models.FloatField()
    duty_sort = models.DecimalField(
        max_digits=18, decimal_places=2, help_text="Duty of the suggested code; -1 if unknown."
    )
    jurisdiction = models.CharField(max_length=8)
    origin = models.CharField(max_length=2, blank=True)
    rule_pack_version = models.CharField(max_length=100, blank=True)
    reasons = models.JSONField(default=list, blank=True)  # a classified decision has none
    suggested_description = models.CharField(max_length=300, blank=True)
    decision_created_at = models.DateTimeField()
    # The final classification, derived from the deciding action.
    final_code = models.CharField(max_length=16, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    missing_facts = models.JSONField(default=list, blank=True)
    # Set when a pack's auto-finalization sampled this decision for a broker's spot check.
    spot_check = models.CharField(
        max_length=12, choices=SpotCheck.choices, blank=True, default="", db_default=""
    )
    # Read by the insights dashboard and drift alerts without opening the evidence JSON: the
    # suggested code, the strongest source of the best candidate's evidence (rule, precedent,
    # search, semantic, lexicon) and its best rule, and the duty of the code the catalog declared.
    selected_code = models.CharField(max_length=16, blank=True, default="", db_default="")
    evidence_source = models.CharField(max_length=12, blank=True, default="", db_default="")
    rule_id = models.CharField(max_length=64, blank=True, default="", db_default="")
    declared_duty = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    # Set while the state is final (``review.tallies.derive_final``): the band of its time from
    # decision to final (``tallies.FINAL_BANDS``) and the final code's estimated duty (null when
    # not computable), so the dashboard's time to final and duty exposure need no scan or join.
    final_bucket = models.SmallIntegerField(null=True, blank=True)
    final_duty = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        permissions = [("decide_escalated", "Decide this escalated item")]
        indexes = [
            models.Index(
                fields=["tenant", "queue", "-risk_rank", "decision_created_at", "decision"],
                name="review_queue_risk_age",
            ),
            models.Index(
                fields=["tenant", "queue", "-duty_sort", "decision"], name="review_queue_duty"
            ),
            models.Index(
                fields=["tenant", "queue", "confidence", "decision"], name="review_queue_conf"
            ),
            models.Index(
                fields=["tenant", "assignee", "-risk_rank", "decision_created_at", "decision"],
                name="review_assignee",
            ),
            models.Index(
                fields=["tenant", "queue", "-decided_at", "decision"], name="review_decided"
            ),
            models.Index(fields=["tenant", "product", "status"], name="review_product"),
            models.Index(fields=["tenant", "decision_created_at"], name="review_created"),
            models.Index(
                fields=["tenant", "decided_at"],
                include=["decision_created_at", "jurisdiction", "decided_by"],
                name="review_final_at",
                condition=models.Q(status="final"),
            ),
            # The dashboard's backlog (open items by queue and age) and duty exposure.
            models.Index(
                fields=["tenant", "queue", "decision_created_at"],
                include=["status", "jurisdiction", "assignee", "updated_at"],
                name="review_open_age",
                condition=models.Q(status__in=["open", "escalated", "info_requested"]),
            ),
            models.Index(
                fields=["tenant", "decision_created_at"],
                include=["final_code", "final_duty", "declared_duty", "jurisdiction"],
                name="review_declared_duty",
                condition=models.Q(status="final", declared_duty__isnull=False),
            ),
            # Duty exposure's largest differences: read in order, the first ten in the period.
            models.Index(
                "tenant",
                Abs(F("final_duty") - F("declared_duty")).desc(),
                "decision",
                include=["decision_created_at", "jurisdiction", "final_code"],
                name="review_duty_gap",
                condition=models.Q(
                    status="final", declared_duty__isnull=False, final_duty__isnull=False
                ),
            ),
            # The exact median and p90 of time to final: the finals of one band in the period.
            models.Index(
                fields=["tenant", "final_bucket", "decided_at"],
                include=["decision_created_at", "jurisdiction"],
                name="review_final_band",
                condition=models.Q(status="final"),
            ),
        ]

    def __str__(self) -> str:
        return f"Review of decision #{self.decision_id} ({self.status}, v{self.version})"

    @classmethod
    def from_db(cls, db, field_names, values):
        state = super().from_db(db, field_names, values)
        # What the daily tallies counted this state as, to count only what a change changes.
        state._tallied = (
            {f: getattr(state, f) for f in TALLIED_FIELDS}
            if all(f in field_names for f in TALLIED_FIELDS)
            else None
        )
        return state

    @property
    def is_open(self) -> bool:
        return self.status in (ReviewStatus.OPEN, ReviewStatus.ESCALATED)


class ReviewTally(models.Model):
    """Daily counts of review states and actions for the compliance dashboard
    (``review.tallies``, where the figures are listed).

    Delta rows per tenant, local date, jurisdiction and figure key (summed by readers, folded
    by ``tallies.tally_compact``). By the decision's date:
    ``outcome``, ``spot``, the checked codes' ``checked_outcome``, ``checked_source``,
    ``checked_rule``, ``checked_pack``, ``bin`` (``right6`` counts codes right at 6 digits) and
    ``moved`` (``key2`` the suggestion), ``open`` (per queue) and ``duty`` (``amount`` sums the
    duty differences); by the date finalized, ``final_time`` (per band); by the action's date,
    ``actions`` (per person). Kept in the transactions that write review states and actions.
    """

    tenant = models.ForeignKey("workbench.Tenant", on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    jurisdiction = models.CharField(max_length=8)
    figure = models.CharField(max_length=16)
    key = models.CharField(max_length=100, blank=True)
    key2 = models.CharField(max_length=16, blank=True)
    n = models.BigIntegerField(default=0)
    kept = models.BigIntegerField(default=0, help_text="Final code = the machine's selection.")
    right6 = models.BigIntegerField(default=0, help_text="Right at 6 digits.")
    confidence = models.FloatField(default=0.0, help_text="Sum of the confidences.")
    amount = models.DecimalField(
        max_digits=20, decimal_places=2, default=0, help_text="Sum of duty differences."
    )

    class Meta:
        # Rows are deltas (``review.tallies``): a key may have several until they are compacted.
        indexes = [
            models.Index(
                fields=["tenant", "day", "jurisdiction", "figure", "key", "key2"],
                name="review_tally_key",
            ),
            # A figure over every day (the backlog's open items by decision date).
            models.Index(fields=["tenant", "figure", "day"], name="review_tally_figure"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.jurisdiction} {self.figure} {self.key}: {self.n}"


class ActionKind(models.TextChoices):
    ACCEPT = "accept", "Accepted"
    OVERRIDE = "override", "Overrode"
    ESCALATE = "escalate", "Escalated"
    REQUEST_INFO = "request_info", "Requested information"
    INFO_RECEIVED = "info_received", "Facts updated; classified again"
    ASSIGN = "assign", "Assigned"
    RELEASE = "release", "Released"
    GRANT = "grant", "Granted a decision right"
    PROMOTE = "promote", "Promoted to a golden case"
    SYSTEM_FINALIZE = "system_finalize", "Finalized on the rule pack's authority"
    SPOT_CHECK = "spot_check", "Confirmed in a spot check"
    REOPEN = "reopen", "Reopened"
    SIGN_OFF = "sign_off", "Signed off; a second compliance lead must confirm"
    SUPERSEDED = "superseded", "Superseded by a later final decision"
    UNDO = "undo", "Undid"


# Finalizing actions: each one gives the decision a final code (``ReviewAction.code``).
FINALIZING_KINDS = (ActionKind.ACCEPT, ActionKind.OVERRIDE, ActionKind.SYSTEM_FINALIZE)


class OverrideReason(models.TextChoices):
    MISSING_MATERIAL = "missing_material", "Missing material"
    WRONG_USE_CASE = "wrong_use_case", "Wrong use case"
    RULE_CONFLICT = "rule_conflict", "Rule conflict"
    SUPPLIER_EVIDENCE = "supplier_evidence", "Supplier evidence"
    LEGAL_GUIDANCE = "legal_guidance", "Legal guidance"
    BINDING_RULING = "binding_ruling", "Binding ruling"
    OTHER = "other", "Other"


class ReviewAction(models.Model):
    """One reviewer action on a decision. Append-only (PostgreSQL trigger)."""

    tenant = models.ForeignKey("workbench.Tenant", on_delete=models.PROTECT, related_name="+")
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="actions")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=ActionKind.choices)
    version = models.PositiveIntegerField(help_text="The review state's version after it.")
    code = models.CharField(max_length=16, blank=True)
    reason_code = models.CharField(max_length=24, choices=OverrideReason.choices, blank=True)
    route = models.CharField(max_length=16, choices=Route.choices, blank=True)
    note = models.TextField(blank=True)
    ruling_reference = models.CharField(max_length=40, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["decision", "version"], name="review_action_version")
        ]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="review_action_recent")]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} decision #{self.decision_id}"


class EvidenceFile(models.Model):
    """A file a reviewer attached to an override (a ruling, a supplier declaration, a photo)."""

    tenant = models.ForeignKey("workbench.Tenant", on_delete=models.PROTECT, related_name="+")
    action = models.ForeignKey(ReviewAction, on_delete=models.PROTECT, related_name="files")
    file = models.FileField(upload_to="review-evidence/%Y/%m/")
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


# --- Calibration per tenant (issue 16) ------------------------------------------------------


class CalibrationFit(models.Model):
    """One fit of a tenant's calibrated confidence for a jurisdiction (``Calibration.to_json``).

    Immutable (PostgreSQL trigger): a refit is a new row, and the newest per (tenant,
    jurisdiction) is the one the worker uses; decisions record its ``version``, so the rows that
    made a past confidence stay readable. Without a row the engine's shipped default applies.
    """

    tenant = models.ForeignKey("workbench.Tenant", on_delete=models.PROTECT, related_name="+")
    jurisdiction = models.CharField(max_length=8)
    n = models.PositiveIntegerField(help_text="1, 2, … per tenant and jurisdiction.")
    version = models.CharField(max_length=64, help_text="t<tenant id>-<jurisdiction>-<n>")
    fit = models.JSONField(help_text="Calibration.to_json(): features, coefficients, intercept.")
    cases = models.PositiveIntegerField(help_text="Labelled cases the fit was made on.")
    right = models.PositiveIntegerField(help_text="Of which the best candidate was right at 6.")
    ece = models.FloatField(help_text="In-sample expected calibration error (10 bins).")
    source = models.CharField(max_length=300, help_text="Where the cases came from.")
    fitted_at = models.DateTimeField(auto_now_add=True)
    fitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty when the daily schedule fitted it.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "jurisdiction", "n"], name="calibration_fit_n_per_tenant"
            ),
            models.UniqueConstraint(
                fields=["tenant", "version"], name="calibration_fit_version_per_tenant"
            ),
        ]
        ordering = ["tenant", "jurisdiction", "-n"]

    def __str__(self) -> str:
        return f"Calibration {self.version} ({self.cases} cases)"
