"""django-q2 tasks of notifications: emails leave after the action that caused them commits."""


def email_notifications(ids: list[int]) -> int:
    """Email the notifications ``ids``; return how many were sent."""
    from notifications import services

    return services.notifications_email(notification_ids=ids)
