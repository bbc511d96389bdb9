"""Create an API token for a tenant from the command line, as a member who may manage tokens."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from integrations import services
from integrations.models import Scope
from workbench.models import Tenant
from workbench.roles import perm


class Command(BaseCommand):
    help = "Create a service token for the JSON API and print it (it is shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--user", required=True, help="a member who may manage API tokens")
        parser.add_argument("--name", required=True, help="which system uses it")
        parser.add_argument("--scope", choices=Scope.values, default=Scope.READ)
        parser.add_argument("--days", type=int, default=90, help="expiry in days (0: never)")

    def handle(self, *args, tenant, user, name, scope, days, **options):
        tenant_obj = Tenant.objects.filter(slug=tenant).first()
        if tenant_obj is None:
            raise CommandError(f"No tenant {tenant!r}.")
        actor = get_user_model().objects.filter(username=user, is_active=True).first()
        if actor is None or not actor.has_perm(perm("manage_api_tokens"), tenant_obj):
            raise CommandError(f"{user!r} is not a member of {tenant!r} who may manage tokens.")
        expires_at = timezone.now() + timedelta(days=days) if days > 0 else None
        try:
            token, plaintext = services.token_create(
                actor=actor, tenant=tenant_obj, name=name, scope=scope, expires_at=expires_at
            )
        except ValidationError as err:
            raise CommandError("; ".join(err.messages)) from None
        expiry = f"expires {token.expires_at:%Y-%m-%d}" if token.expires_at else "never expires"
        self.stderr.write(f"Token {token.prefix}… ({scope}) for {tenant}; {expiry}.")
        self.stdout.write(plaintext)
