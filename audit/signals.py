"""Authentication events go to the system audit chain (they belong to no single tenant).

Connected by ``AuditConfig.ready``: audit listens to Django's auth signals, so the workbench
(below audit) needs no import of it for them."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit import services


def _client(request) -> dict:
    if request is None:
        return {}
    return {
        "ip": request.META.get("REMOTE_ADDR", ""),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:200],
    }


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    services.record(actor=user, verb="workbench.user.logged_in", target=user, data=_client(request))


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        services.record(
            actor=user, verb="workbench.user.logged_out", target=user, data=_client(request)
        )


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    services.record(
        actor=None,
        actor_label=f"anonymous ({username or 'no username'})",
        verb="workbench.user.login_failed",
        data={"username": username, **_client(request)},
    )
