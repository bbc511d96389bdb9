"""Tenancy: tenants and the memberships that give users a role in them."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from workbench.roles import PERMISSIONS, Role

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    "Use 1–50 lower-case letters, digits and hyphens, not starting or ending with a hyphen.",
)


class Tenant(models.Model):
    """An importer or brokerage: every business row belongs to exactly one tenant."""

    slug = models.SlugField(max_length=50, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        default_permissions = ()
        permissions = list(PERMISSIONS.items())

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's single role in one tenant."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_per_tenant")
        ]
        ordering = ["tenant__name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.tenant}"


class Invitation(models.Model):
    """An offer of a role in a tenant to one person, named by username or email address.

    Only the SHA-256 of the link's token is kept. The membership is created when the person the
    invitation names, logged in, accepts it before it expires; a link works once.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="invitations")
    invitee = models.CharField(max_length=254, help_text="Username or email address.")
    role = models.CharField(max_length=32, choices=Role.choices)
    token_sha256 = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(accepted_at__isnull=True) | models.Q(revoked_at__isnull=True),
                name="invitation_accepted_or_revoked_not_both",
            )
        ]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="invitation_tenant")]

    def __str__(self) -> str:
        return f"{self.invitee} as {self.get_role_display()} at {self.tenant}"

    def state(self, now) -> str:
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "pending"

    def names(self, user) -> bool:
        """Whether ``user`` is the person invited: the same username, or the same email address."""
        if user.get_username() == self.invitee:
            return True
        return (
            "@" in self.invitee
            and bool(user.email)
            and (user.email.casefold() == self.invitee.casefold())
        )


class ReactionFailure(models.Model):
    """An app's reaction to a catalog change (``on_product_changed``, ``on_catalog_imported``)
    that raised in its task. Shown beside dead jobs until the app's sweep has redone the work
    and set ``recovered_at``; kept after that as a record."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    hook = models.CharField(max_length=64)
    app_label = models.CharField(max_length=100)
    subject = models.CharField(max_length=200, help_text='"product 12", "import batch 3"')
    error = models.TextField()
    failed_at = models.DateTimeField(auto_now_add=True)
    recovered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()
        indexes = [
            models.Index(
                fields=["tenant", "app_label", "failed_at"],
                name="workbench_reaction_open",
                condition=models.Q(recovered_at__isnull=True),
            )
        ]
        ordering = ["-failed_at"]

    def __str__(self) -> str:
        return f"{self.hook} of {self.app_label} for {self.subject}"
