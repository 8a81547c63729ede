"""The bench server's database, made afresh for every run; the developer's own is never touched."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.options import ROOT, SQLITE_OPTIONS, VAR


def bench_database() -> tuple[str, str]:
    """(DATABASE_URL of the bench server, a description); the database is made afresh."""
    given = os.environ.get("DATABASE_URL", "").strip()
    if given.startswith(("postgres://", "postgresql://", "pgsql://")):
        return _postgresql(given)
    if given and not given.startswith("sqlite"):
        raise SystemExit("bench: DATABASE_URL must be PostgreSQL (or unset for SQLite)")
    return _sqlite()


def _postgresql(given: str) -> tuple[str, str]:
    """A separate database ``<name>_bench`` (or BENCH_DATABASE_NAME) on the given server."""
    parts = urlsplit(given)
    name = os.environ.get("BENCH_DATABASE_NAME") or (parts.path.lstrip("/") or "abc_identity") + "_bench"
    # The name goes into DDL: quoted as an identifier below, and kept plain here as well.
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise SystemExit(f"bench: unusable database name {name!r}")
    import psycopg  # only PostgreSQL runs need it
    from psycopg import sql

    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return urlunsplit(parts._replace(path="/" + name)), f"postgresql, database {name} (recreated)"


def _sqlite() -> tuple[str, str]:
    path = VAR / "bench.sqlite3"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    options = os.environ.get("BENCH_SQLITE_OPTIONS", SQLITE_OPTIONS).strip()
    url = f"sqlite:///{path}" + (f"?{options}" if options else "")
    return url, f"sqlite {path.relative_to(ROOT)} (fresh; {options or 'default options'})"
