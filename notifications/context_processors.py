"""Template context: the signed-in person's unread notification count, for the top bar."""

from notifications import selectors


def unread(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": selectors.unread_count(user)}
