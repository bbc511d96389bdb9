#!/usr/bin/env python
"""Django's command-line utility for the customs classification workbench."""

import os
import secrets
import sys

# Commands that only read models and migration files: they sign nothing, so a bare checkout may
# run them without production settings (settings refuse to start without a SECRET_KEY).
OFFLINE_COMMANDS = {"makemigrations", "showmigrations", "sqlmigrate"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
    if len(sys.argv) > 1 and sys.argv[1] in OFFLINE_COMMANDS:
        os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
