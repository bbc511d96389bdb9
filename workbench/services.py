"""Writes for tenancy: tenants, memberships and invitations, each audited in its transaction."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from workbench import extension_points
from workbench.models import Invitation, Membership, Tenant
from workbench.roles import PERMISSIONS, ROLE_PERMISSIONS, Role, perm


def _audit(**event):
    """Append an audit event in the caller's transaction through the ``audit_record`` extension
    point: audit sits above the workbench (DESIGN §3), so it is not imported here."""
    recorder = extension_points.first("audit_record")
    if recorder is None:
        raise ImproperlyConfigured("No installed app implements audit_record.")
    return recorder(**event)


@transaction.atomic
def tenant_create(*, actor, slug: str, name: str) -> Tenant:
    """Create a tenant and record ``workbench.tenant.created``.

    Raises ``ValidationError`` for a bad or taken slug.
    """
    tenant = Tenant(slug=slug, name=name)
    tenant.full_clean()
    tenant.save()
    _audit(
        actor=actor,
        verb="workbench.tenant.created",
        target=tenant,
        tenant=tenant,
        data={"slug": slug, "name": name},
    )
    return tenant


def _sync_permissions(user, tenant, role: str | None) -> None:
    granted = ROLE_PERMISSIONS.get(role, frozenset()) if role else frozenset()
    for codename in PERMISSIONS:
        if codename in granted:
            assign_perm(perm(codename), user, tenant)
        else:
            remove_perm(perm(codename), user, tenant)


@transaction.atomic
def membership_set(*, actor, tenant: Tenant, user, role: str) -> Membership:
    """Give ``user`` the ``role`` in ``tenant`` (creating or changing the membership).

    Grants exactly the role's guardian permissions on the tenant and revokes every other
    tenant permission, then records ``workbench.membership.created`` or ``…role_changed``.
    Raises ``ValidationError`` for an unknown role.
    """
    if role not in Role.values:
        raise ValidationError({"role": f"{role!r} is not a role ({', '.join(Role.values)})."})
    membership = Membership.objects.select_for_update().filter(tenant=tenant, user=user).first()
    old_role = membership.role if membership else None
    if membership is None:
        membership = Membership(tenant=tenant, user=user, role=role)
        membership.full_clean()
        membership.save()
        verb = "workbench.membership.created"
    elif old_role != role:
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
        verb = "workbench.membership.role_changed"
    _sync_permissions(user, tenant, role)
    if old_role != role:
        _audit(
            actor=actor,
            verb=verb,
            target=membership,
            tenant=tenant,
            data={"user": user.get_username(), "role": [old_role, role]},
        )
    return membership


@transaction.atomic
def membership_remove(*, actor, membership: Membership) -> None:
    """Remove a membership and every tenant permission it granted; audited.

    Refuses to remove the tenant's last tenant admin.
    """
    tenant, user = membership.tenant, membership.user
    if membership.role == Role.TENANT_ADMIN and not (
        Membership.objects.filter(tenant=tenant, role=Role.TENANT_ADMIN)
        .exclude(pk=membership.pk)
        .exists()
    ):
        raise ValidationError({"role": "A tenant keeps at least one tenant admin."})
    _sync_permissions(user, tenant, None)
    _audit(
        actor=actor,
        verb="workbench.membership.removed",
        target=membership,
        tenant=tenant,
        data={"user": user.get_username(), "role": [membership.role, None]},
    )
    membership.delete()


def invitation_digest(token: str) -> str:
    """Return the SHA-256 under which an invitation's token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def invitation_create(*, actor, tenant: Tenant, invitee: str, role: str) -> tuple[Invitation, str]:
    """Invite the person named ``invitee`` (username or email) to ``tenant`` as ``role``.

    Returns the invitation and its token, which is not stored (only its SHA-256) and cannot be
    shown again. No account is looked up: whether the name exists is never revealed. Refuses a
    second pending invitation for the same name. Audited as ``workbench.invitation.created``.
    """
    if role not in Role.values:
        raise ValidationError({"role": f"{role!r} is not a role ({', '.join(Role.values)})."})
    now = timezone.now()
    if Invitation.objects.filter(
        tenant=tenant,
        invitee__iexact=invitee,
        accepted_at=None,
        revoked_at=None,
        expires_at__gt=now,
    ).exists():
        raise ValidationError(
            {"invitee": f"{invitee!r} already has a pending invitation; revoke it to send another."}
        )
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        tenant=tenant,
        invitee=invitee,
        role=role,
        token_sha256=invitation_digest(token),
        invited_by=actor,
        expires_at=now + timedelta(days=settings.INVITATION_MAX_AGE_DAYS),
    )
    invitation.full_clean()
    invitation.save()
    _audit(
        actor=actor,
        verb="workbench.invitation.created",
        target=invitation,
        data={
            "invitee": invitee,
            "role": role,
            "expires_at": invitation.expires_at.isoformat(),
            "emailed": "@" in invitee,
        },
    )
    if "@" in invitee:
        transaction.on_commit(lambda: _email_invitation(invitation, token))
    return invitation, token


def _email_invitation(invitation: Invitation, token: str) -> None:
    url = settings.SITE_URL + reverse("invitation_accept", args=[token])
    who = invitation.invited_by.get_username() if invitation.invited_by else "A tenant admin"
    body = (
        f"{who} invites you to join {invitation.tenant.name} on the Customs Workbench as "
        f"{invitation.get_role_display()}.\n\nAccept here (you set your password if you have no "
        f"account yet); the link works once, until "
        f"{timezone.localtime(invitation.expires_at):%Y-%m-%d %H:%M %Z}:\n{url}\n"
    )
    send_mail(f"Invitation to {invitation.tenant.name}", body, None, [invitation.invitee])


def invitation_refusal(invitation: Invitation | None, user, *, now=None) -> ValidationError | None:
    """Return why ``user`` may not accept ``invitation`` (``code`` says which check), or None.

    ``user`` None checks only the invitation itself (someone without an account).
    """
    now = now or timezone.now()
    if invitation is None:
        return ValidationError("This invitation link is not valid.", code="unknown")
    state = invitation.state(now)
    if state == "accepted":
        return ValidationError("This invitation has already been used.", code="accepted")
    if state == "revoked":
        return ValidationError("This invitation was revoked by a tenant admin.", code="revoked")
    if state == "expired":
        expired = timezone.localtime(invitation.expires_at)
        return ValidationError(
            f"This invitation expired on {expired:%Y-%m-%d %H:%M %Z}; "
            "ask a tenant admin for a new one.",
            code="expired",
        )
    if user is None:  # no account yet: the invitation will create it
        return None
    # The same answer whatever the account: the link names nobody to whoever holds it.
    if not invitation.names(user):
        return ValidationError(
            "This invitation is for another account. Log in as the person it was sent to.",
            code="wrong_account",
        )
    if Membership.objects.filter(tenant=invitation.tenant, user=user).exists():
        return ValidationError(
            f"You already belong to {invitation.tenant.name}; a tenant admin can change your role.",
            code="member",
        )
    return None


@transaction.atomic
def invitation_accept(*, user, token: str) -> Membership:
    """Accept the invitation whose link carries ``token``: ``user`` becomes a member.

    The invitation is locked, so a link is used once even when two requests race. Refuses
    (``ValidationError`` with a ``code``, nothing written) an unknown, used, revoked or expired
    invitation, an account the invitation does not name, and an existing member. Records
    ``workbench.membership.created`` and ``workbench.invitation.accepted``.
    """
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("tenant")
        .filter(token_sha256=invitation_digest(token))
        .first()
    )
    refusal = invitation_refusal(invitation, user)
    if refusal is not None:
        raise refusal
    membership = membership_set(
        actor=user, tenant=invitation.tenant, user=user, role=invitation.role
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    _audit(
        actor=user,
        verb="workbench.invitation.accepted",
        target=invitation,
        data={"invitee": invitation.invitee, "user": user.get_username(), "role": invitation.role},
    )
    return membership


@transaction.atomic
def invitation_revoke(*, actor, invitation: Invitation) -> Invitation:
    """Revoke a pending invitation so that its link no longer works. Idempotent.

    Refuses an invitation already accepted (remove the membership instead). Audited as
    ``workbench.invitation.revoked`` (only the first time).
    """
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise ValidationError("This invitation was already accepted; remove the member instead.")
    if invitation.revoked_at is not None:
        return invitation
    invitation.revoked_at = timezone.now()
    invitation.revoked_by = actor
    invitation.save(update_fields=["revoked_at", "revoked_by"])
    _audit(
        actor=actor,
        verb="workbench.invitation.revoked",
        target=invitation,
        data={"invitee": invitation.invitee, "role": invitation.role},
    )
    return invitation


def invitation_new_account(invitation: Invitation):
    """Return the unsaved account an invitation creates for someone without one: the username
    is the name invited (an email address also becomes the account's email)."""
    name = invitation.invitee.strip()
    email = name if "@" in name else ""
    return get_user_model()(username=name.lower() if email else name, email=email)


@transaction.atomic
def invitation_accept_new_account(*, token: str, password: str):
    """Accept an invitation by creating the invitee's account with ``password``; return it.

    The account is named by the invitation (``invitation_new_account``), so nobody picks or
    probes other usernames. Refuses (``ValidationError``, nothing written) an invitation that
    cannot be accepted, a name that already has an account (log in to accept instead) and a
    password Django's validators reject (``{"password": [...]}``). Records
    ``workbench.user.created``, then the membership and the acceptance (``invitation_accept``).
    """
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("tenant")
        .filter(token_sha256=invitation_digest(token))
        .first()
    )
    refusal = invitation_refusal(invitation, None)
    if refusal is not None:
        raise refusal
    user = invitation_new_account(invitation)
    if get_user_model().objects.filter(username__iexact=user.username).exists():
        raise ValidationError(
            f"An account named {user.username!r} exists already: log in to accept.",
            code="account_exists",
        )
    password_validation.validate_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    _audit(
        actor=user,
        verb="workbench.user.created",
        target=user,
        tenant=invitation.tenant,
        data={"username": user.get_username(), "invitation": invitation.pk},
    )
    invitation_accept(user=user, token=token)
    return user
