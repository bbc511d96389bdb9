"""Writes of notifications: telling people, emailing them after commit, marking read.

``notify`` runs in the caller's transaction and leaves the audit event to the caller (the action
that gave rise to the message records itself). Emails leave only after that transaction commits,
from a background task: an action rolled back sends nothing, and a slow mail server never holds
a page.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

import audit
from notifications.models import EmailPreference, Kind, Notification

log = logging.getLogger(__name__)
EMAIL_TASK = "notifications.tasks.email_notifications"


def notify(*, recipients, tenant, kind: str, text: str, link: str = "") -> list[Notification]:
    """Tell each of ``recipients`` (users; duplicates, None and inactive ones skipped) ``text``.

    Writes one notification each in the caller's transaction; the email of those whose
    preference allows it is queued on commit. Raises ``ValueError`` for an unknown kind. The
    caller's own audit event covers the change the message announces.
    """
    if kind not in Kind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    users = {u.pk: u for u in recipients if u is not None and u.is_active}
    if not users:
        return []
    rows = Notification.objects.bulk_create(
        Notification(recipient_id=pk, tenant=tenant, kind=kind, text=text[:500], link=link[:300])
        for pk in sorted(users)
    )
    muted = set(
        EmailPreference.objects.filter(user_id__in=users, kind=kind, email=False).values_list(
            "user_id", flat=True
        )
    )
    ids = [n.pk for n in rows if users[n.recipient_id].email and n.recipient_id not in muted]
    if ids:
        transaction.on_commit(lambda: _queue_email(ids))
    return rows


def _queue_email(ids: list[int]) -> None:
    from django_q.tasks import async_task

    async_task(EMAIL_TASK, ids, group="notifications")


def notifications_email(*, notification_ids) -> int:
    """Email the given notifications not emailed yet; return how many were sent.

    Bookkeeping, not an audit record: the action behind each message was audited when it
    happened. Each notification is claimed (``emailed_at``) before it is sent, so two workers
    never send one twice; a failed send is logged and not retried.
    """
    sent = 0
    for pk in notification_ids:
        claimed = Notification.objects.filter(pk=pk, emailed_at=None).update(
            emailed_at=timezone.now()
        )
        if not claimed:
            continue
        note = Notification.objects.select_related("recipient", "tenant").get(pk=pk)
        if not note.recipient.email:
            continue
        body = note.text
        if note.link:
            body += f"\n\n{settings.SITE_URL}{note.link}"
        body += (
            f"\n\n— Customs Workbench, {note.tenant.name}. Choose which emails you receive: "
            f"{settings.SITE_URL}/notifications/"
        )
        try:
            send_mail(_subject(note), body, None, [note.recipient.email])
        except Exception:  # the mail server's failure must not stop the other messages
            log.exception("emailing notification %s failed", pk)
            continue
        sent += 1
    return sent


def _subject(note: Notification) -> str:
    first = note.text.splitlines()[0] if note.text else note.get_kind_display()
    return f"[{note.tenant.name}] {first[:120]}"


def notifications_mark_read(*, user, ids=None) -> int:
    """Mark ``user``'s notifications read (the given ids, or all); return how many changed.

    Bookkeeping of what a person has seen, not an audit record. Others' ids are ignored.
    """
    unread = Notification.objects.filter(recipient=user, read_at=None)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


@transaction.atomic
def email_preferences_set(*, user, emailed_kinds) -> list[str]:
    """Set which kinds of notification ``user`` also receives by email; return the muted kinds.

    Unknown kinds are refused (``ValueError``). Audited as
    ``notifications.preferences.changed`` when something changed.
    """
    wanted = set(emailed_kinds)
    unknown = wanted - set(Kind.values)
    if unknown:
        raise ValueError(f"unknown notification kinds: {', '.join(sorted(unknown))}")
    before = {
        p.kind: p.email for p in EmailPreference.objects.select_for_update().filter(user=user)
    }
    changed = {}
    for kind in Kind.values:
        email = kind in wanted
        if before.get(kind, True) != email:
            changed[kind] = email
        EmailPreference.objects.update_or_create(user=user, kind=kind, defaults={"email": email})
    if changed:
        audit.record(
            actor=user,
            verb="notifications.preferences.changed",
            target=("auth.user", user.pk, user.get_username()),
            data={"email": changed},
        )
    return [k for k in Kind.values if k not in wanted]
