"""The embedded PostgreSQL used when ``DATABASE_URL`` is not set.

The server's data lives under ``var/pgdata`` in the checkout. It is started on demand by whichever
process needs it first (web server, worker, management command or test worker) and is left
running so that the others share it; pgserver serialises start-up with an inter-process lock.
It listens on a Unix socket only, never on a TCP port.
"""

import contextlib
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

DATABASE_NAME = "workbench"


def _explain(var_dir: Path, err: Exception) -> ImproperlyConfigured:
    return ImproperlyConfigured(
        f"The embedded PostgreSQL under {var_dir / 'pgdata'} could not start: {err}. "
        "Its log is var/pgdata/log. To use another server instead, set "
        "DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/DBNAME."
    )


def database_settings(var_dir: Path, name: str = DATABASE_NAME) -> dict:
    """Start (or join) the embedded server and return a DATABASES entry for database ``name``."""
    var_dir.mkdir(parents=True, exist_ok=True)
    # pgserver keeps its lock file under the runtime directory; keep it inside var/ too.
    run_dir = var_dir / "run"
    run_dir.mkdir(mode=0o700, exist_ok=True)
    run_dir.chmod(0o700)  # platformdirs ignores a runtime directory that others can read
    os.environ.setdefault("XDG_RUNTIME_DIR", str(run_dir))
    try:
        import pgserver

        server = pgserver.get_server(var_dir / "pgdata", cleanup_mode=None)
        socket_dir = server.get_postmaster_info().socket_dir
        _ensure_database(str(socket_dir), name)
    except ImproperlyConfigured:
        raise
    except Exception as err:  # any failure here is one message for the operator
        raise _explain(var_dir, err) from err
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(socket_dir),
        "PORT": "",
        "OPTIONS": {},
    }


def _ensure_database(socket_dir: str, name: str) -> None:
    import psycopg
    from psycopg import errors, sql

    with psycopg.connect(
        host=socket_dir, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            return
        # Another process may create it between our check and our CREATE.
        with contextlib.suppress(errors.DuplicateDatabase):
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
