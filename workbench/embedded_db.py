"""The embedded PostgreSQL used when ``DATABASE_URL`` is not set.

The server's data lives under ``var/pgdata`` in the checkout. It is started on demand by whichever
process needs it first (web server, worker, management command or test worker) and is left
running so that the others share it; pgserver serialises start-up with an inter-process lock.
It listens on a Unix socket only, never on a TCP port.

The application connects as ``workbench``, a role that owns the application's databases and
tables but is not a superuser: it cannot switch triggers off with ``session_replication_role``,
change the server's configuration or read the server's files. The superuser ``postgres`` is used
only here, to create that role and its database, and to hand over a database that older versions
created as the superuser.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

DATABASE_NAME = "workbench"
APP_ROLE = "workbench"
SUPERUSER = "postgres"
# Serialises the bootstrap of concurrent processes (pg_advisory_lock key, any fixed number).
_BOOTSTRAP_LOCK = 0x57_42_52_4F_4C_45
# Databases of the server that are not the application's.
_SYSTEM_DATABASES = ("postgres", "template0", "template1")
_SYSTEM_SCHEMA = "(n.nspname = 'information_schema' OR left(n.nspname, 3) = 'pg_')"


def _explain(var_dir: Path, err: Exception) -> ImproperlyConfigured:
    return ImproperlyConfigured(
        f"The embedded PostgreSQL under {var_dir / 'pgdata'} could not start: {err}. "
        "Its log is var/pgdata/log. To use another server instead, set "
        "DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/DBNAME."
    )


def start(var_dir: Path) -> str:
    """Start (or join) the embedded server and return the directory of its Unix socket."""
    var_dir.mkdir(parents=True, exist_ok=True)
    # pgserver keeps its lock file under the runtime directory; keep it inside var/ too.
    run_dir = var_dir / "run"
    run_dir.mkdir(mode=0o700, exist_ok=True)
    run_dir.chmod(0o700)  # platformdirs ignores a runtime directory that others can read
    os.environ.setdefault("XDG_RUNTIME_DIR", str(run_dir))
    try:
        import pgserver

        server = pgserver.get_server(var_dir / "pgdata", cleanup_mode=None)
        return str(server.get_postmaster_info().socket_dir)
    except Exception as err:  # any failure here is one message for the operator
        raise _explain(var_dir, err) from err


def database_settings(var_dir: Path, name: str = DATABASE_NAME) -> dict:
    """Start (or join) the embedded server and return a DATABASES entry for database ``name``."""
    if name in _SYSTEM_DATABASES:
        raise ImproperlyConfigured(
            f"EMBEDDED_DB_NAME={name!r} names a system database of the embedded server; "
            "choose another name."
        )
    socket_dir = start(var_dir)
    try:
        bootstrap(socket_dir, name)
    except Exception as err:
        raise _explain(var_dir, err) from err
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": APP_ROLE,
        "PASSWORD": "",
        "HOST": socket_dir,
        "PORT": "",
        "OPTIONS": {},
    }


def bootstrap(socket_dir: str, name: str) -> None:
    """As the superuser: create the application role and database ``name`` if they are missing,
    and give the role whatever the superuser still owns of the application's databases."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        host=socket_dir, user=SUPERUSER, dbname="postgres", autocommit=True
    ) as conn:
        # Test workers, the web server and the worker may all start at once.
        conn.execute("SELECT pg_advisory_lock(%s)", [_BOOTSTRAP_LOCK])
        _ensure_role(conn)
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(name), sql.Identifier(APP_ROLE)
                )
            )
        # Databases an older version created as the superuser, this one's and leftover test
        # databases alike: the application must own them to migrate, drop and recreate them.
        for (other,) in conn.execute(
            "SELECT datname FROM pg_database WHERE datdba <> %s::regrole AND datname <> ALL(%s)",
            [APP_ROLE, list(_SYSTEM_DATABASES)],
        ).fetchall():
            conn.execute(
                sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                    sql.Identifier(other), sql.Identifier(APP_ROLE)
                )
            )
        with psycopg.connect(host=socket_dir, user=SUPERUSER, dbname=name) as db, db.transaction():
            _hand_over_objects(db)


def _ensure_role(conn) -> None:
    """Create the login role, or put back its attributes if someone changed them."""
    from psycopg import sql

    wanted = {"rolsuper": False, "rolcanlogin": True, "rolcreatedb": True, "rolcreaterole": False}
    wanted |= {"rolreplication": False, "rolbypassrls": False}
    row = conn.execute(
        "SELECT rolsuper, rolcanlogin, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls "
        "FROM pg_roles WHERE rolname = %s",
        [APP_ROLE],
    ).fetchone()
    # CREATEDB: the test runner creates and drops a database per test worker.
    attributes = "LOGIN NOSUPERUSER CREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
    if row is None:
        conn.execute(sql.SQL("CREATE ROLE {} " + attributes).format(sql.Identifier(APP_ROLE)))
    elif tuple(row) != tuple(wanted.values()):
        conn.execute(sql.SQL("ALTER ROLE {} " + attributes).format(sql.Identifier(APP_ROLE)))


def _hand_over_objects(db) -> None:
    """Make the application role the owner of every schema, table, sequence, view, function and
    type in the connected database (objects of extensions excepted)."""
    from psycopg import sql

    role = sql.Identifier(APP_ROLE)
    not_extension = (
        "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = {catalog}::regclass "
        "AND d.objid = {oid} AND d.deptype = 'e')"
    )

    def owned_by_others(query: str, catalog: str, oid: str) -> list:
        condition = not_extension.format(catalog=f"'{catalog}'", oid=oid)
        return db.execute(query + " AND " + condition, [APP_ROLE]).fetchall()

    schemas = owned_by_others(
        "SELECT n.nspname FROM pg_namespace n WHERE NOT " + _SYSTEM_SCHEMA + " "
        "AND n.nspowner NOT IN (%s::regrole, 'pg_database_owner'::regrole)",
        "pg_namespace",
        "n.oid",
    )
    for (schema,) in schemas:
        db.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(sql.Identifier(schema), role))

    relations = (
        "SELECT n.nspname, c.relname, c.relkind FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT " + _SYSTEM_SCHEMA + " "
        "AND c.relowner <> %s::regrole AND c.relkind IN "
    )
    # Tables first: a table takes the sequences of its identity and serial columns with it.
    for kinds, statement in (
        ("('r', 'p', 'v', 'm', 'f')", "ALTER TABLE {} OWNER TO {}"),
        ("('S')", "ALTER SEQUENCE {} OWNER TO {}"),
        ("('c')", "ALTER TYPE {} OWNER TO {}"),
    ):
        for schema, relation, _kind in owned_by_others(relations + kinds, "pg_class", "c.oid"):
            target = sql.Identifier(schema, relation)
            db.execute(sql.SQL(statement).format(target, role))

    routines = owned_by_others(
        "SELECT p.oid::regprocedure::text FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE NOT " + _SYSTEM_SCHEMA + " "
        "AND p.proowner <> %s::regrole",
        "pg_proc",
        "p.oid",
    )
    for (signature,) in routines:  # regprocedure text is already quoted
        db.execute(sql.SQL("ALTER ROUTINE {} OWNER TO {}").format(sql.SQL(signature), role))

    types = owned_by_others(
        "SELECT n.nspname, t.typname FROM pg_type t "
        "JOIN pg_namespace n ON n.oid = t.typnamespace WHERE NOT " + _SYSTEM_SCHEMA + " "
        "AND t.typowner <> %s::regrole AND t.typtype IN ('e', 'd')",
        "pg_type",
        "t.oid",
    )
    for schema, name in types:
        db.execute(sql.SQL("ALTER TYPE {} OWNER TO {}").format(sql.Identifier(schema, name), role))
