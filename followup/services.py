"""Writes of follow-up: supplier links (create, answer, revoke), the public page's rate limit,
and the daily digest of overdue review items. Each write is audited in its transaction."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

import audit
from catalog import facts as catalog_facts
from catalog import services as catalog_services
from catalog.models import Product
from classification.models import ActionKind, ReviewAction, ReviewState, ReviewStatus
from classification.review import services as review_services
from followup import selectors
from followup.models import RateWindow, SupplierFile, SupplierLink
from notifications import selectors as recipients
from notifications import services as notification_services
from notifications.models import Kind
from workbench.access import user_has_tenant_perm
from workbench.roles import Role

SIGNING_SALT = "followup.supplier-link"


def supplier_link_digest(token: str) -> str:
    """Return the SHA-256 under which a supplier link's token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def supplier_link_token(signed: str) -> str | None:
    """Return the token inside a link's signed value, or None when the signature is bad or the
    link is older than ``SUPPLIER_LINK_MAX_AGE_DAYS`` (checked before any row is read)."""
    max_age = timedelta(days=settings.SUPPLIER_LINK_MAX_AGE_DAYS)
    try:
        return signing.TimestampSigner(salt=SIGNING_SALT).unsign(signed, max_age=max_age)
    except signing.BadSignature:
        return None


def _question(state: ReviewState) -> str:
    asked = (
        ReviewAction.objects.filter(decision_id=state.pk, kind=ActionKind.REQUEST_INFO)
        .order_by("-version")
        .values_list("note", flat=True)
        .first()
    )
    return asked or ""


@transaction.atomic
def supplier_link_create(
    *, actor, state: ReviewState, contact_name: str, contact_email: str = ""
) -> tuple[SupplierLink, str]:
    """Create a link that lets one supplier contact answer the facts asked on ``state``.

    The item must be waiting for information and ``actor`` must edit the tenant's catalog (else
    ``ValidationError``). Returns the link and its signed address value, shown once: only the
    token's SHA-256 is stored. With an email address, the link is emailed after commit. Audited
    as ``followup.supplier_link.created``.
    """
    state = (
        ReviewState.objects.select_for_update(of=("self",))
        .select_related("tenant", "product")
        .get(pk=state.pk)
    )
    errors = {}
    if not user_has_tenant_perm(actor, state.tenant, "edit_catalog"):
        errors["__all__"] = "Your role does not allow sending questions to suppliers."
    elif state.status != ReviewStatus.INFO_REQUESTED:
        errors["__all__"] = "This item is not waiting for information any more."
    name, email = (contact_name or "").strip(), (contact_email or "").strip()
    if not name:
        errors["contact_name"] = "Name the supplier contact who will answer."
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["contact_email"] = f"{email!r} is not an email address."
    if errors:
        raise ValidationError(errors)
    token = secrets.token_urlsafe(32)
    link = SupplierLink(
        tenant=state.tenant,
        state=state,
        product=state.product,
        missing_facts=list(state.missing_facts),
        question=_question(state),
        contact_name=name[:200],
        contact_email=email,
        token_sha256=supplier_link_digest(token),
        created_by=actor,
        expires_at=timezone.now() + timedelta(days=settings.SUPPLIER_LINK_MAX_AGE_DAYS),
    )
    link.full_clean()
    link.save()
    audit.record(
        actor=actor,
        verb="followup.supplier_link.created",
        target=link,
        data={
            "sku": state.product.sku,
            "decision": state.pk,
            "contact": link.label,
            "missing_facts": link.missing_facts,
            "expires_at": link.expires_at.isoformat(),
        },
    )
    signed = signing.TimestampSigner(salt=SIGNING_SALT).sign(token)
    if email:
        transaction.on_commit(lambda: _email_link(link, signed))
    return link, signed


def _email_link(link: SupplierLink, signed: str) -> None:
    url = settings.SITE_URL + reverse("supplier_answer", args=[signed])
    facts = ", ".join(catalog_facts.LABELS[k].lower() for k in link.missing_facts)
    body = (
        f"Hello {link.contact_name},\n\n{link.tenant.name} asks for facts about the product "
        f"{link.product.sku} ({link.product.name}): {facts}.\n\n{link.question}\n\n"
        f"Answer here, no account needed (the link works once, until "
        f"{timezone.localtime(link.expires_at):%Y-%m-%d}):\n{url}\n"
    )
    subject = f"{link.tenant.name}: questions about {link.product.sku}"
    send_mail(subject, body, None, [link.contact_email])


@transaction.atomic
def supplier_link_revoke(*, actor, link: SupplierLink) -> SupplierLink:
    """Revoke a link so that it no longer opens. Idempotent; refuses an answered link.

    Audited as ``followup.supplier_link.revoked`` (only the first time).
    """
    link = SupplierLink.objects.select_for_update().get(pk=link.pk)
    if link.answered_at is not None:
        raise ValidationError("The supplier has already answered through this link.")
    if link.revoked_at is not None:
        return link
    link.revoked_at = timezone.now()
    link.revoked_by = actor
    link.save(update_fields=["revoked_at", "revoked_by"])
    audit.record(
        actor=actor,
        verb="followup.supplier_link.revoked",
        target=link,
        data={"contact": link.label, "decision": link.state_id},
    )
    return link


def supplier_link_refusal(link: SupplierLink | None, *, now=None) -> ValidationError | None:
    """Return why ``link`` cannot be answered (``code`` says which check), or None."""
    now = now or timezone.now()
    if link is None:
        return ValidationError("This link is not valid.", code="unknown")
    status = link.status(now)
    if status == "answered":
        return ValidationError("This link has been used already. Thank you.", code="answered")
    if status == "revoked":
        return ValidationError("This link was withdrawn by the sender.", code="revoked")
    if status == "expired":
        return ValidationError(
            "This link has expired; ask the sender for a new one.", code="expired"
        )
    if link.state.status != ReviewStatus.INFO_REQUESTED:
        return ValidationError(
            "These facts have been answered already; nothing more is needed.", code="answered"
        )
    return None


@transaction.atomic
def supplier_link_answer(*, token: str, raw: dict, files=()) -> SupplierLink:
    """Write a supplier's answer through the link whose token is ``token``.

    Only the facts the link asks for are taken from ``raw``; the others keep their current
    values. The answer becomes a new product version attributed to the link (``supplier link
    #N, <contact>``), which classifies the product again like any fact update; files are
    checked like evidence and stored with their SHA-256. The link is locked and used once.
    Refuses (``ValidationError``, nothing written) a used, revoked or expired link, bad facts
    and bad files. Audited as ``followup.supplier_link.answered`` (and the catalog's update).
    """
    link = (
        SupplierLink.objects.select_for_update(of=("self",))
        .select_related("tenant", "state", "product")
        .filter(token_sha256=supplier_link_digest(token))
        .first()
    )
    refusal = supplier_link_refusal(link)
    if refusal is not None:
        raise refusal
    product = Product.objects.select_related("current_version").get(
        pk=link.product_id, tenant_id=link.tenant_id
    )
    asked = {key: raw.get(key) for key in link.missing_facts}
    errors = {key: "Give this fact." for key, value in asked.items() if value in (None, "", [])}
    try:
        checked = review_services.evidence_files_check(files)
    except ValidationError as err:
        errors.update(err.message_dict)
    if errors:
        raise ValidationError(errors)
    current = dict(product.current_version.facts) if product.current_version else {}
    product, changed = catalog_services.product_update_facts(
        actor=None, actor_label=link.label, product=product, raw={**current, **asked}
    )
    link.answered_at = timezone.now()
    link.answer_version = product.current_version
    link.save(update_fields=["answered_at", "answer_version"])
    stored = review_services.evidence_files_store(
        SupplierFile, checked, tenant_id=link.tenant_id, link=link
    )
    audit.record(
        actor=None,
        actor_label=link.label,
        verb="followup.supplier_link.answered",
        target=link,
        data={
            "sku": product.sku,
            "version": product.current_version.n,
            "changed": changed,
            "files": [{"name": f.name, "sha256": f.sha256, "size": f.size} for f in stored],
        },
    )
    if not changed:  # the facts stand as they were: the broker decides with them
        notification_services.notify(
            recipients=[link.created_by],
            tenant=link.tenant,
            kind=Kind.INFO_RECEIVED,
            text=f"{link.label} confirmed the facts of {product.sku} unchanged.",
            link=reverse("followup:question", args=[link.tenant.slug, link.state_id]),
        )
    return link


def rate_check(*, key: str, limit: int, now=None) -> int | None:
    """Count one request for ``key`` this minute; return seconds to wait past ``limit``, or None.

    One upserted row per key and minute, shared by every web process; refused requests count.
    Bookkeeping, not an audit record.
    """
    now = now or timezone.now()
    window = now.replace(second=0, microsecond=0)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {RateWindow._meta.db_table} (key, window_start, count) "
            "VALUES (%s, %s, 1) ON CONFLICT (key, window_start) "
            f"DO UPDATE SET count = {RateWindow._meta.db_table}.count + 1 RETURNING count",
            [key[:100], window],
        )
        (count,) = cursor.fetchone()
    return None if count <= limit else max(1, 60 - now.second)


def rate_windows_purge(*, now=None) -> int:
    """Delete request counters older than an hour; return how many. Bookkeeping."""
    now = now or timezone.now()
    deleted, _ = RateWindow.objects.filter(window_start__lt=now - timedelta(hours=1)).delete()
    return deleted


@transaction.atomic
def digest_send(*, tenant_id: int, now=None) -> int:
    """Tell the tenant's reviewers which items are overdue; return how many people were told.

    Overdue: waiting for a broker, or for facts, since its decision was made more than
    ``REVIEW_OVERDUE_DAYS`` ago. An assignee hears of their own items; brokers and compliance
    leads of the unassigned ones. One notification per person (emailed unless they turned the
    digest off). Audited as ``followup.digest.sent`` when anyone was told.
    """
    overdue = selectors.overdue_items(tenant_id=tenant_id, now=now)
    if not overdue:
        return 0
    tenant = overdue[0].tenant
    reviewers = recipients.members_with_roles(tenant, [Role.BROKER, Role.COMPLIANCE_LEAD])
    per_user: dict[int, tuple[object, list]] = {}
    for state in overdue:
        people = [state.assignee] if state.assignee_id else reviewers
        for user in people:
            per_user.setdefault(user.pk, (user, []))[1].append(state)
    for user, states in per_user.values():
        lines = [
            f"{s.product.sku}: {s.get_status_display().lower()} since "
            f"{s.decision_created_at:%Y-%m-%d}"
            for s in states[:20]
        ]
        more = f"\n… and {len(states) - 20} more" if len(states) > 20 else ""
        notification_services.notify(
            recipients=[user],
            tenant=tenant,
            kind=Kind.DIGEST,
            text=f"{len(states)} review items are overdue (older than "
            f"{settings.REVIEW_OVERDUE_DAYS} days):\n" + "\n".join(lines) + more,
            link=reverse("classification:index", args=[tenant.slug]),
        )
    audit.record(
        actor=None,
        actor_label="daily digest",
        verb="followup.digest.sent",
        tenant=tenant,
        data={"overdue": len(overdue), "recipients": len(per_user)},
    )
    return len(per_user)
