"""pg_dump and pg_restore for one database named by an SQLAlchemy URL.

The URL's parts go to the child in libpq's environment variables (PGHOST, PGPORT, PGUSER,
PGDATABASE); its password, when the URL has one, in a PGPASSFILE of our own (0600, in a private
folder, removed after). Without one, libpq finds it as usual (the operator's ~/.pgpass or
PGPASSFILE). Nothing of the URL is on the command line, where every account could read it.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

from kynangso.errors import KnsError

log = logging.getLogger("kns.backup")


# libpq connection options an SQLAlchemy URL may carry as query parameters, and their variables.
LIBPQ_ENV = {"host": "PGHOST", "port": "PGPORT", "passfile": "PGPASSFILE", "sslmode": "PGSSLMODE",
             "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY"}


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def tool(name: str) -> str:
    """pg_dump / pg_restore: on PATH (Debian's wrapper picks the server's version), else the
    newest installed server's own."""
    found = shutil.which(name)
    if found:
        return found
    from kynangso.pgcluster import binaries

    folder = binaries()
    if folder is None or not (folder / name).exists():
        raise KnsError("backup.pg_tool_missing", tool=name)
    return str(folder / name)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(":", "\\:")


def _run(name: str, url: str, args: list[str], what: str) -> None:
    parsed = make_url(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update({"PGHOST": parsed.host or "localhost", "PGPORT": str(parsed.port or 5432),
                "PGDATABASE": parsed.database or "", "PGCONNECT_TIMEOUT": "30"})
    if parsed.username:
        env["PGUSER"] = parsed.username
    if os.environ.get("PGPASSFILE") and not parsed.password:
        env["PGPASSFILE"] = os.environ["PGPASSFILE"]
    for key, value in parsed.query.items():  # libpq options given in the URL (?passfile=...)
        if key in LIBPQ_ENV and isinstance(value, str):
            env[LIBPQ_ENV[key]] = value
    private = tempfile.mkdtemp(prefix="kns-pgpass-")  # 0700
    try:
        if parsed.password:
            passfile = Path(private) / "pgpass"
            fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(":".join(_escape(p) for p in (
                    env["PGHOST"], env["PGPORT"], env["PGDATABASE"], parsed.username or "*",
                    parsed.password)) + "\n")
            env["PGPASSFILE"] = str(passfile)
        done = subprocess.run([tool(name), *args], env=env, capture_output=True, text=True)
    finally:
        shutil.rmtree(private, ignore_errors=True)
    if done.returncode:
        detail = f"{name} of {parsed.render_as_string(hide_password=True)} failed: {done.stderr.strip()}"
        log.error("%s", detail)
        raise KnsError(f"backup.{what}_failed", log_detail=detail,
                       database=parsed.database or "")


def dump(url: str, target: Path) -> None:
    """A consistent copy (pg_dump takes one snapshot) in pg_dump's custom format."""
    _run("pg_dump", url, ["--format=custom", "--no-owner", "--file", str(target)], "dump")


def restore(url: str, source: Path) -> None:
    """Into an empty database, in one transaction: all of it or nothing."""
    _run("pg_restore", url, ["--single-transaction", "--exit-on-error", "--no-owner",
                             "--dbname", "", str(source)], "restore")


def is_empty(url: str) -> bool:
    """No table, view or sequence of anyone's in the database (a fresh one to restore into)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return not conn.execute(text(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
                "AND n.nspname NOT LIKE 'pg_toast%' AND c.relkind IN ('r', 'v', 'S', 'm', 'p')"
            )).scalar()
    except SQLAlchemyError as exc:
        parsed = make_url(url)
        log.error("database %s not reachable: %s", parsed.render_as_string(hide_password=True), exc)
        raise KnsError("backup.database_unreachable", log_detail=str(exc),
                       database=parsed.database or "") from None
    finally:
        engine.dispose()
