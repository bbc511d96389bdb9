"""Prepare an external PostgreSQL server for CI's second test pass and print its DATABASE_URL.

As the superuser named by CI_PG_ADMIN_URL (default: postgres on 127.0.0.1:5432, trust auth),
create or update a login role without superuser rights but with CREATEDB (the test runner
creates a database per worker), and a database it owns: the production shape described in
docs/operations.md. Prints the DATABASE_URL for that role on stdout.

Exit status: 0 ready; 3 no server answers or the superuser is refused (the reason is printed on
stderr and the pass is skipped); anything else is a failure of CI.
"""

import os
import secrets
import sys
from urllib.parse import quote, urlsplit

import psycopg
from psycopg import sql

ADMIN_URL = os.environ.get("CI_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ROLE = os.environ.get("CI_DB_ROLE", "workbench_ci")
DATABASE = os.environ.get("CI_DB_NAME", "workbench_ci")
SKIP = 3


def main() -> int:
    server = urlsplit(ADMIN_URL)
    where = f"{server.hostname or 'localhost'}:{server.port or 5432}"
    try:
        conn = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as err:
        reason = str(err).strip().splitlines()[0]
        print(f"no PostgreSQL server to test against at {where}: {reason}", file=sys.stderr)
        return SKIP
    with conn:
        is_superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if not is_superuser.fetchone()[0]:
            print(f"CI_PG_ADMIN_URL does not connect as a superuser at {where}", file=sys.stderr)
            return SKIP
        password = secrets.token_hex(16)
        role = sql.Identifier(ROLE)
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [ROLE]).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(
            sql.SQL(
                verb + " ROLE {} LOGIN NOSUPERUSER CREATEDB NOCREATEROLE NOREPLICATION "
                "NOBYPASSRLS PASSWORD {}"
            ).format(role, sql.Literal(password))
        )
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(DATABASE), role)
            )
        version = conn.execute("SHOW server_version").fetchone()[0]
    host = server.hostname or "127.0.0.1"
    print(f"PostgreSQL {version} at {where}: role {ROLE} (not a superuser)", file=sys.stderr)
    print(f"postgresql://{quote(ROLE)}:{password}@{host}:{server.port or 5432}/{quote(DATABASE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
