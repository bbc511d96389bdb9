"""Production settings: safe defaults, loud failures, a clean `check --deploy`."""

import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured

from workbench import embedded_db

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "p7Hq2-vN9xL4kR8sT1wY6zB3cF5gJ0mD7eA2uI9oP4qW8rE1tY6uZ3xC5vB7nM0"


def _manage(*args, **env_overrides):
    # A clean environment: only what a production host would have, plus the overrides.
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "DATABASE_URL") if k in os.environ}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_with_production_variables_reports_nothing():
    result = _manage(
        "check",
        "--deploy",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="workbench.example.com",
        CSRF_TRUSTED_ORIGINS="https://workbench.example.com",
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_without_debug_a_missing_secret_key_stops_the_process():
    result = _manage("check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_commands_that_only_read_migrations_need_no_secret_key():
    result = _manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_without_debug_a_weak_secret_key_stops_the_process():
    result = _manage("check", SECRET_KEY="changeme")
    assert result.returncode != 0
    assert "SECRET_KEY is too weak" in result.stderr


def test_an_embedded_database_that_cannot_start_says_why_and_what_to_do(tmp_path):
    failure = RuntimeError("initdb: permission denied")
    with (
        mock.patch("pgserver.get_server", side_effect=failure),
        pytest.raises(ImproperlyConfigured) as err,
    ):
        embedded_db.database_settings(tmp_path)
    message = str(err.value)
    assert "initdb: permission denied" in message
    assert "DATABASE_URL=postgres://" in message
