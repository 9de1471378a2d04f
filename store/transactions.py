"""The one way every table family reaches the database: read and write transactions.

Writers go through an engine that begins SQLite transactions IMMEDIATE (so they queue on
the busy timeout instead of failing on lock upgrade); readers get one snapshot per
transaction. "Cannot reach / locked too long" surfaces as StoreUnavailable everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Column, Connection, Engine, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import (
    DBAPIError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from store import schema as t
from store.engine import SQLITE_BEGIN, is_sqlite
from store.errors import StoreUnavailable


class Transactions:
    """Read and write transactions over one engine, shared by FAQs, settings and asks."""

    def __init__(self, engine: Engine) -> None:
        self._writer = engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        # One snapshot per read on PostgreSQL (SQLite WAL readers get one per transaction).
        self._reader = (
            engine
            if is_sqlite(engine)
            else engine.execution_options(isolation_level="REPEATABLE READ")
        )

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with transaction(self._writer) as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with transaction(self._reader) as connection:
            yield connection


# The database answers but has no Samesay tables: it was dropped and created again, or the
# URL now names another database. Not the caller's mistake, and not a bug: unavailable.
SCHEMA_MISSING = (
    "database unavailable: its Samesay tables are missing (was the database replaced?); "
    "restart the service or run samesay db upgrade to create them"
)
_UNDEFINED_TABLE = "42P01"  # PostgreSQL's SQLSTATE


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """engine.begin(), with "cannot reach / locked too long / no free connection / tables
    gone" turned into StoreUnavailable."""
    try:
        with engine.begin() as connection:
            yield connection
    except (OperationalError, InterfaceError) as error:
        raise StoreUnavailable(unavailable_reason(error)) from error
    except ProgrammingError as error:
        if not _schema_missing(error):
            raise
        raise StoreUnavailable(SCHEMA_MISSING) from error
    except PoolTimeout as error:
        raise StoreUnavailable(
            "database unavailable: no free connection (the database is slow or hung)"
        ) from error


def unavailable_reason(error: DBAPIError) -> str:
    if _schema_missing(error):
        return SCHEMA_MISSING
    detail = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
    return f"database unavailable: {detail}"


def _schema_missing(error: DBAPIError) -> bool:
    # SQLite reports a missing table as an OperationalError, PostgreSQL as a ProgrammingError.
    if getattr(error.orig, "sqlstate", None) == _UNDEFINED_TABLE:
        return True
    return "no such table" in str(error.orig)


def bump_counter(connection: Connection, column: Column[int]) -> int:
    """Increment one counter of the single store_state row and return the new value.

    The UPDATE takes that row's lock until the transaction ends, so writers bumping the
    same counter commit in counter order.
    """
    return connection.execute(
        update(t.store_state)
        .where(t.store_state.c.id == 1)
        .values({column.key: column + 1})
        .returning(column)
    ).scalar_one()


def insert_for(connection: Connection):  # noqa: ANN201 — dialect-specific Insert factory
    """The dialect's insert(), which has on_conflict_do_update / _do_nothing."""
    return sqlite.insert if connection.dialect.name == "sqlite" else postgresql.insert
