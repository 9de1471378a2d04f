"""A store that is slow, hung or emptied: a quick StoreUnavailable that says why, never a hang
or an unmapped error; and background loops that log an outage once, not on every tick."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from store import failure_log
from store.engine import CONNECT_TIMEOUT_S
from store.errors import StoreUnavailable
from store.failure_log import FailureLog
from store.faq_store import FaqStore
from store.transactions import SCHEMA_MISSING, transaction


def test_no_free_connection_is_unavailable_not_an_unmapped_error(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    try:
        with engine.connect() as held:  # the pool's one connection, busy
            held.execute(text("SELECT 1"))
            with pytest.raises(StoreUnavailable, match="no free connection"):
                with transaction(engine):
                    pass
    finally:
        engine.dispose()


def _drop(url: str, *tables: str) -> None:
    engine = create_engine(url)
    try:
        with transaction(engine) as connection:
            for table in tables:
                connection.execute(text(f"DROP TABLE {table}"))
    finally:
        engine.dispose()


def test_an_emptied_database_is_unavailable_and_says_so(faq_store: FaqStore) -> None:
    _drop(faq_store.url, "faq_tags", "faq_entries")
    with pytest.raises(StoreUnavailable) as raised:
        faq_store.count()
    assert str(raised.value) == SCHEMA_MISSING
    assert faq_store.unavailable_reason() is None  # store_state is still there...
    _drop(faq_store.url, "store_state")
    assert faq_store.unavailable_reason() == SCHEMA_MISSING  # ...and now it is not
    assert not faq_store.ping()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never says a word (a hung database, a dead proxy)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def test_a_postgres_server_that_never_answers_gives_up_in_seconds(silent_server: int) -> None:
    pytest.importorskip("psycopg")
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="database unavailable"):
        FaqStore(f"postgresql+psycopg://postgres@127.0.0.1:{silent_server}/test")
    # Without a connect timeout this waited for the kernel: about two minutes.
    assert time.monotonic() - started < CONNECT_TIMEOUT_S * 3


def test_a_failing_loop_is_logged_when_it_starts_then_each_minute_then_when_it_recovers(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(failure_log.time, "monotonic", lambda: clock[0])
    log = FailureLog(logging.getLogger("test.loop"), "the loop")
    with caplog.at_level(logging.INFO, logger="test.loop"):
        for _ in range(40):  # ten seconds of ticks
            log.failed(StoreUnavailable("database unavailable: refused"), "kept")
            clock[0] += 0.25
        clock[0] += failure_log.REPEAT_EVERY_S
        log.failed(StoreUnavailable("database unavailable: refused"))
        log.succeeded()
        log.failed(RuntimeError("a bug"))
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "the loop failed: database unavailable: refused; kept",
        "the loop still failing (41 times in a row): database unavailable: refused",
        "the loop works again after 41 failures",
        "the loop failed: a bug",
    ]
    # A known outage says all in its message; anything else comes with its traceback.
    assert [record.exc_info is not None for record in caplog.records] == [
        False, False, False, True
    ]
