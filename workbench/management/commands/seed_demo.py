"""Create the demo tenants, users and data (idempotent), all audited as "demo data"."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

import audit
from workbench import demo


class Command(BaseCommand):
    help = "Create demo tenants, one user per role and demo data. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--print-logins",
            action="store_true",
            help="only print the demo logins (used by `make run`)",
        )

    def handle(self, *args, print_logins=False, **options):
        if print_logins:
            self._print_logins()
            return
        if not settings.DEBUG:
            self.stdout.write("Note: demo users have a known password; this is for local use.")
        with audit.as_system(demo.DEMO_ACTOR):
            with transaction.atomic():
                tenants = demo.seed_tenants_and_users()
            for step in demo.extra_steps():
                step(tenants, self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

    def _print_logins(self):
        users = get_user_model().objects.filter(username__in=[u for u, *_ in demo.DEMO_USERS])
        present = set(users.values_list("username", flat=True))
        self.stdout.write(f"  Demo logins (password for all: {demo.DEMO_PASSWORD})")
        for username, tenant_slug, role in demo.DEMO_USERS:
            if username in present:
                self.stdout.write(f"    {username:<12} {role.replace('_', ' '):<16} {tenant_slug}")
