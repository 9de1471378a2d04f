"""Engines for the two supported backends, configured for durability and serialised writers."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from store.errors import StoreError

# A database that accepts connections but never answers (a hung server, a dead proxy) must
# not hold requests for minutes: a new connection gives up after CONNECT_TIMEOUT_S, and a
# request waiting for a free pooled connection after POOL_TIMEOUT_S (both then a 503).
CONNECT_TIMEOUT_S = 5
POOL_TIMEOUT_S = 10

# Execution option read by the SQLite "begin" hook: writers use IMMEDIATE so they take the
# write lock up front and queue on the busy timeout, instead of failing on lock upgrade.
SQLITE_BEGIN = "samesay_sqlite_begin"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def create_store_engine(url: str) -> Engine:
    """An Engine for a SQLite file (WAL, synchronous=FULL, foreign keys) or PostgreSQL."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        folder = _sqlite_file(parsed).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:  # a file in the way, no permission, a read-only disk
            raise StoreError(
                f"cannot create the SQLite database's folder {folder}: {error.strerror}"
            ) from None
        # timeout: how long a writer waits for another's lock before "database is locked".
        engine = create_engine(
            parsed, connect_args={"timeout": 60, "check_same_thread": False}
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    if backend == "postgresql":
        return create_engine(
            parsed,
            pool_pre_ping=True,
            pool_timeout=POOL_TIMEOUT_S,
            connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
        )
    raise StoreError(f"unsupported database backend {backend!r}: use sqlite or postgresql")


def require_existing_database(url: str) -> None:
    """Raise StoreError if `url` names a SQLite file that does not exist. Opening a store
    creates a missing file (and its directory), which is right for import and serve but lets
    a read-only command "succeed" on a new, empty store; PostgreSQL is a server's database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_file(parsed)
        if not path.is_file():
            raise StoreError(f"no SQLite database at {path.resolve()}")


def _sqlite_file(url: URL) -> Path:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise StoreError("SQLite store needs a file path: sqlite:////abs/path/samesay.db")
    return Path(database)


def _sqlite_on_connect(dbapi_connection, _record) -> None:  # noqa: ANN001 (DBAPI types)
    # pysqlite's own transaction handling would defer BEGIN and ignore IMMEDIATE: turn it off
    # and emit BEGIN ourselves in the "begin" hook (the SQLAlchemy-documented recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    _enable_wal(cursor)
    cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged commit survives power loss
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _enable_wal(cursor) -> None:  # noqa: ANN001 (DBAPI types)
    """Switch the file to WAL (persistent; a no-op once set). Switching needs a moment of
    exclusive access, and SQLite answers "database is locked" at once, without its busy
    timeout, when another connection opens the new file at the same time: retry briefly."""
    for attempt in range(100):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == 99:
                raise
            time.sleep(0.05)


def _sqlite_on_begin(connection) -> None:  # noqa: ANN001
    mode = connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")
