"""The bench server's database, made afresh for every run; the developer's own is never touched."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.options import ROOT, SQLITE_OPTIONS, VAR


def _given() -> str:
    given = os.environ.get("DATABASE_URL", "").strip()
    if given and not given.startswith(("sqlite", *POSTGRESQL_SCHEMES)):
        raise SystemExit("bench: DATABASE_URL must be PostgreSQL (or unset for SQLite)")
    return given


POSTGRESQL_SCHEMES = ("postgres://", "postgresql://", "pgsql://")


def uses_postgresql() -> bool:
    return _given().startswith(POSTGRESQL_SCHEMES)


def database_choice() -> str:
    """Which database the run will use, said before anything is made."""
    given = _given()
    if given.startswith(POSTGRESQL_SCHEMES):
        parts = urlsplit(given)
        return (
            f"PostgreSQL at {parts.hostname or 'localhost'}:{parts.port or 5432} (DATABASE_URL), "
            f"database {_bench_name(parts.path)} made afresh"
        )
    return (
        f"SQLite {(VAR / 'bench.sqlite3').relative_to(ROOT)} made afresh (DATABASE_URL unset; "
        "the issue's figures are taken on PostgreSQL)"
    )


def redact(url: str) -> str:
    """``url`` without its password, for the console and the result file."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def bench_database() -> tuple[str, str]:
    """(DATABASE_URL of the bench server, a description); the database is made afresh."""
    given = _given()
    if given.startswith(POSTGRESQL_SCHEMES):
        return _postgresql(given)
    return _sqlite()


def _bench_name(path: str) -> str:
    """``<name>_bench`` (or BENCH_DATABASE_NAME); the name goes into DDL, so plain only."""
    name = os.environ.get("BENCH_DATABASE_NAME") or (path.lstrip("/") or "abc_identity") + "_bench"
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise SystemExit(f"bench: unusable database name {name!r}")
    return name


def _postgresql(given: str) -> tuple[str, str]:
    """A separate database ``<name>_bench`` (or BENCH_DATABASE_NAME) on the given server."""
    parts = urlsplit(given)
    name = _bench_name(parts.path)  # quoted as an identifier below as well
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
