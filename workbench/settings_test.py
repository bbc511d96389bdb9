"""Test settings: the production settings with speed and determinism overrides only."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-" + "k" * 60)
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

from workbench.settings import *  # noqa: F403
from workbench.settings import DATABASES, Q_CLUSTER

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Durability is not what tests exercise; commit without waiting for the disk.
DATABASES["default"]["OPTIONS"]["options"] = "-c synchronous_commit=off"
DATABASES["default"]["CONN_MAX_AGE"] = 0
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Live-server browser tests use plain HTTP.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
AXES_ENABLED = False  # enabled per test where throttling is what is tested
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 (whitenoise warns when it is absent)
