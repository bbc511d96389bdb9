"""Settings for the customs classification workbench, read from environment variables.

Every variable is documented in README.md. Defaults are safe for production: DEBUG is off, a
secret key must be supplied outside DEBUG, cookies are secure outside DEBUG.
"""

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from workbench import env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.get_str("WORKBENCH_VAR_DIR", str(BASE_DIR / "var")))
# On, the transformer re-ranks the alternatives of products no rule or precedent settles, once a
# revision's line vectors are built. Off by default: it helps on held-out data but costs
# 3.5-7 ms a re-ranked product, a fifth of the end-to-end throughput (docs/engine.md
# "Transformer re-rank"). Decisions record which ran.
TRANSFORMER_RERANK = env.get_bool("WORKBENCH_TRANSFORMER_RERANK", False)
# Precedents by meaning through the transformer: one pass (~2 ms) per product with a plausible
# neighbour among the tenant's finalized decisions (docs/engine.md "Precedents by meaning").
PRECEDENT_TRANSFORMER = env.get_bool("WORKBENCH_PRECEDENT_TRANSFORMER", True)

DEBUG = env.get_bool("DEBUG", False)

SECRET_KEY = env.get_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (50+ random characters, e.g. from "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`)."
        )
    SECRET_KEY = "dev-only-key-not-for-production-" + "x" * 32
elif not DEBUG and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5):
    raise ImproperlyConfigured("SECRET_KEY is too weak for production: use 50+ random characters.")

ALLOWED_HOSTS = env.get_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.get_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "guardian",
    "axes",
    # Before django_q: its `qcluster` command is workbench's (a bounded stop on SIGTERM).
    "workbench",
    "django_q",
    "ninja",  # the API docs page serves its Swagger UI files from static, not a CDN
    "audit",
    "catalog",
    "tariffs",
    "rulepacks",
    "classification",
    "integrations",
    "insights",
    "metering",
    "notifications",
    "followup",
]

MIDDLEWARE = [
    "workbench.middleware.ContentSecurityPolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "workbench.middleware.RefuseNulBytesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After static files: times every request that reaches Django (metering/prometheus.py).
    "metering.prometheus.RequestLatencyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF, which reads the request body: permission and size are checked unread.
    "workbench.middleware.TenantMiddleware",
    "workbench.uploads.UploadGuardMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "workbench.middleware.LoginRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "workbench.urls"
WSGI_APPLICATION = "workbench.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "workbench.context_processors.tenancy",
                "notifications.context_processors.unread",
            ],
        },
    },
]

# Database: DATABASE_URL, or the embedded PostgreSQL under var/ (see workbench/embedded_db.py).
DATABASE_URL = env.get_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": env.parse_database_url(DATABASE_URL)}
else:
    from workbench import embedded_db

    DATABASES = {
        "default": embedded_db.database_settings(
            VAR_DIR, env.get_str("EMBEDDED_DB_NAME", embedded_db.DATABASE_NAME)
        )
    }
DATABASES["default"]["CONN_MAX_AGE"] = env.get_int("DB_CONN_MAX_AGE", 60, minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# How long a tenant admin's invitation link stays valid.
INVITATION_MAX_AGE_DAYS = env.get_int("INVITATION_MAX_AGE_DAYS", 7, minimum=1)
LOGIN_REDIRECT_URL = "home"

# The workbench's own address, for links in emails (no request to build them from).
SITE_URL = env.get_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Email (notifications, invitations, supplier links): the console in DEBUG, SMTP otherwise.
EMAIL_BACKEND = env.get_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.get_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env.get_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env.get_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env.get_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env.get_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env.get_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env.get_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env.get_str("DEFAULT_FROM_EMAIL", "workbench@localhost")
# A review item open (or waiting for facts) longer than this is overdue (daily digest).
REVIEW_OVERDUE_DAYS = env.get_int("REVIEW_OVERDUE_DAYS", 3, minimum=1)
# Supplier links: how long one stays valid, and requests per minute one address may make.
SUPPLIER_LINK_MAX_AGE_DAYS = env.get_int("SUPPLIER_LINK_MAX_AGE_DAYS", 14, minimum=1)
SUPPLIER_LINK_RATE_PER_MINUTE = env.get_int("SUPPLIER_LINK_RATE_PER_MINUTE", 20, minimum=1)
LOGOUT_REDIRECT_URL = "login"

# Guardian: no anonymous user row; permissions are always checked against a member.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# Login throttling (django-axes): lock a username+address pair after repeated failures.
AXES_ENABLED = env.get_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env.get_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env.get_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.get_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.get_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
MEDIA_ROOT = Path(env.get_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Upload limits: requests, in-memory buffering, and the spreadsheet import's own ceilings.
UPLOAD_MAX_BYTES = env.get_int("UPLOAD_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)
IMPORT_MAX_ROWS = env.get_int("IMPORT_MAX_ROWS", 200_000, minimum=1)
IMPORT_MAX_UNCOMPRESSED_BYTES = env.get_int(
    "IMPORT_MAX_UNCOMPRESSED_BYTES", 500 * 1024 * 1024, minimum=1024
)
IMPORT_MAX_COMPRESSION_RATIO = env.get_int("IMPORT_MAX_COMPRESSION_RATIO", 200, minimum=2)
# Memory the child process that parses one workbook may use; more refuses the file.
IMPORT_READER_MAX_MB = env.get_int("IMPORT_READER_MAX_MB", 300, minimum=64)
# A background import whose run stopped its worker this many times is failed for good.
IMPORT_MAX_WORKER_CRASHES = env.get_int("IMPORT_MAX_WORKER_CRASHES", 2, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000

# Destination jurisdictions a product may name.
JURISDICTIONS = env.get_list("JURISDICTIONS", ["US", "EU", "GB"])
# Where seed_demo finds public tariff files (USITC export, CBP PGA report, 301/232 lists).
TARIFF_DATA_DIR = env.get_str("WORKBENCH_TARIFF_DIR")

# Security: secure cookies and HSTS outside DEBUG.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.get_int("SESSION_COOKIE_AGE", 12 * 3600, minimum=60)
SECURE_SSL_REDIRECT = env.get_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.get_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.get_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env.get_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (workbench.middleware; Django 6.0's name and shape): scripts and
# styles only from our static files, no inline script, style attribute or eval (htmx runs with
# allowEval off). data: images are for the API reference page's Swagger UI icons.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
# Prometheus at /metrics (metering/prometheus.py): off (404) unless a token is set, then only
# for `Authorization: Bearer <METRICS_TOKEN>`.
METRICS_TOKEN = env.get_str("METRICS_TOKEN", "").strip()
if METRICS_TOKEN and len(METRICS_TOKEN) < 24:
    raise ImproperlyConfigured(
        "METRICS_TOKEN is too short: use 24+ random characters, e.g. from "
        "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
    )
if env.get_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Background work: django-q2 on the same PostgreSQL. The Job table is the truth; q2 only wakes
# workers and runs schedules.
Q_CLUSTER = {
    "name": "workbench",
    "orm": "default",
    "workers": env.get_int("WORKER_PROCESSES", 2, minimum=1),
    "timeout": env.get_int("WORKER_TASK_TIMEOUT", 600, minimum=10),
    "retry": env.get_int("WORKER_TASK_TIMEOUT", 600, minimum=10) + 60,
    "max_attempts": 1,
    "catch_up": False,
    "poll": 1,
    "ack_failures": True,
    "save_limit": 1000,
    "label": "Background tasks",
    "log_level": env.get_str("WORKER_LOG_LEVEL", "WARNING"),
}
# A running import or export writes a heartbeat this often; one older than WORKER_STALE_SECONDS
# has lost its worker (its page says "stalled" and the sweep, every minute, hands it on).
WORKER_HEARTBEAT_SECONDS = env.get_int("WORKER_HEARTBEAT_SECONDS", 10, minimum=1)
WORKER_STALE_SECONDS = env.get_int("WORKER_STALE_SECONDS", 30, minimum=1)
if not 2 * WORKER_HEARTBEAT_SECONDS < WORKER_STALE_SECONDS <= 60:
    raise ImproperlyConfigured(
        f"WORKER_STALE_SECONDS={WORKER_STALE_SECONDS} must be at most 60 and more than twice "
        f"WORKER_HEARTBEAT_SECONDS={WORKER_HEARTBEAT_SECONDS}."
    )
# After SIGTERM, how long running tasks have to hand their work back before the cluster kills
# them (at most the task timeout).
WORKER_STOP_SECONDS = min(env.get_int("WORKER_STOP_SECONDS", 30, minimum=1), Q_CLUSTER["timeout"])
# How long a worker holds a leased classification job before another may retake it.
CLASSIFICATION_LEASE_SECONDS = env.get_int("CLASSIFICATION_LEASE_SECONDS", 120, minimum=10)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.get_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "pgserver": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # django-q2 logs as "django-q" (every enqueue at INFO).
        "django-q": {"level": env.get_str("WORKER_LOG_LEVEL", "WARNING")},
    },
}
