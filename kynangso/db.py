"""The platform database: one engine and session factory per URL, Alembic migrations.

SQLite by default (a file in the state folder), PostgreSQL by setting
`database.url`; nothing else changes. Callers use `session_scope(url)`, which
commits on success and rolls back on any error, so an import or a registration
is stored whole or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event

if TYPE_CHECKING:  # the ORM is imported by the first session: readers of Core queries (the
    # dashboards' kernels, through kynangso.exams.flags) never pay for it
    from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # WAL lets readers (dashboards) work while a writer commits; foreign keys
    # are off by default in SQLite; a busy timeout serialises concurrent writers
    # instead of failing them.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


@cache
def engine_for(url: str) -> Engine:
    """One engine per database URL for the life of the process."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


@cache
def _factory(url: str) -> sessionmaker[Session]:
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine_for(url), expire_on_commit=False)


def session_scope(url: str):
    """A session of the database at `url` that commits when the block succeeds, else rolls back."""
    return transaction(_factory(url))


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session from `factory` that commits when the block succeeds and rolls back otherwise.

    The one place this commit/rollback block is written; the sandboxes' own (per-learner)
    databases use it too.
    """
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("kynangso") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["engine"] = engine_for(url)
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (creating it if needed)."""
    from alembic import command

    log.info("migrating platform database to %s", revision)
    command.upgrade(_alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine_for(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def insert(session: Session, model):
    """An INSERT for `model` in the dialect of the session's database, so that callers may add
    `.on_conflict_do_nothing(...)` / `.on_conflict_do_update(...)` (SQLite and PostgreSQL
    both have them): a row that several service copies may create at once is created once."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(model)
