"""Schema version check and Alembic upgrades, run programmatically at start-up.

Policy: a fresh database is created at head; an older known revision is upgraded in place
(logged) unless `upgrade=False`, in which case SchemaVersionError says to run
`samesay db upgrade`; a revision this code does not know (a newer Samesay wrote it), or our
tables without Alembic's version table, is always refused with SchemaVersionError.
Migrations run in one transaction under a lock (BEGIN IMMEDIATE on SQLite, an advisory lock on
PostgreSQL), so workers starting together migrate once.

A schema change = edit store/schema.py AND add store/migrations/versions/NNNN_name.py
(`command.revision(alembic_config(), message=...)` writes the skeleton; there is no
alembic.ini); tests/store/test_schema.py fails while the two disagree.
"""

from __future__ import annotations

import logging

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

from store.engine import SQLITE_BEGIN
from store.errors import SchemaVersionError

log = logging.getLogger(__name__)

# Any constant: serialises concurrent start-ups that migrate the same PostgreSQL database.
_PG_MIGRATION_LOCK = 0x5A3E5A1


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", "store:migrations")
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "store/migrations has no revisions"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return _current(connection)


def ensure_schema(engine: Engine, *, upgrade: bool = True) -> str:
    """Bring the schema to head (or refuse, see module doc); returns the revision in use."""
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    with engine.connect() as connection:
        if _current(connection) == head:  # fast path: no lock on the usual start-up
            return head
    writer = engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
    with writer.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
        current = _current(connection)  # again, under the lock: another process may have won
        if current == head:
            return head
        known = {script_revision.revision for script_revision in script.walk_revisions()}
        if current is not None and current not in known:
            raise SchemaVersionError(
                f"database schema revision {current!r} is unknown to this Samesay (its newest "
                f"is {head!r}): the database was written by a newer version; upgrade Samesay"
            )
        if current is None and inspect(connection).has_table("faq_entries"):
            raise SchemaVersionError(
                "the database has Samesay-like tables but no schema version (alembic_version): "
                "refusing to guess; point SAMESAY_DATABASE_URL at a Samesay database"
            )
        if not upgrade:
            raise SchemaVersionError(
                f"database schema is at {current!r}, this Samesay needs {head!r}: "
                "run `samesay db upgrade`"
            )
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        if current is None:
            log.info("store schema created at %s", head)
        else:
            log.warning("store schema upgraded from %s to %s", current, head)
        return head


def _current(connection: Connection) -> str | None:
    heads = MigrationContext.configure(connection).get_current_heads()
    if len(heads) > 1:
        raise SchemaVersionError(f"database has several schema heads {heads}: repair needed")
    return heads[0] if heads else None
