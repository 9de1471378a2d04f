"""The buffered ask log: batches, survives store errors, bounded, never a write per ask."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.ask_log import AskLogBuffer
from app.config import Settings
from app.service import ask_retention
from store.errors import AskNotFound
from store.faq_store import FaqStore
from store.records import AskRecord
from tests.app.conftest import make_settings


def _record(i: int) -> AskRecord:
    return AskRecord(f"ask{i}", f"question {i}", False, None, 0.1, 0.5, datetime.now(UTC))


class FlakyStore:
    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.fail = False

    def record_asks(self, records) -> int:
        if self.fail:
            raise ConnectionError("database down")
        self.batches.append([r.ask_id for r in records])
        return len(records)


def test_flush_writes_in_order_and_keeps_records_when_the_store_fails() -> None:
    store = FlakyStore()
    buffer = AskLogBuffer(store, flush_interval_s=60, capacity=10)  # type: ignore[arg-type]
    for i in range(3):
        buffer.append(_record(i))
    store.fail = True
    with pytest.raises(ConnectionError):
        buffer.flush()
    assert len(buffer) == 3  # nothing lost
    store.fail = False
    assert buffer.flush() == 3
    assert store.batches == [["ask0", "ask1", "ask2"]]


def test_capacity_drops_the_oldest_and_counts_them() -> None:
    dropped: list[int] = []
    store = FlakyStore()
    buffer = AskLogBuffer(store, 60, capacity=5, on_drop=dropped.append)  # type: ignore[arg-type]
    for i in range(8):
        buffer.append(_record(i))
    assert sum(dropped) == 3 and len(buffer) == 5
    buffer.flush()
    assert store.batches == [[f"ask{i}" for i in range(3, 8)]]


def test_asks_are_logged_in_batches_not_one_write_each(client, loaded) -> None:
    service = client.app.state.service
    calls: list[int] = []
    original = service.store.record_asks

    def counting(records):
        result = original(records)
        calls.append(len(records))  # after the write: the test then reads what is stored
        return result

    service.store.record_asks = counting
    ask_ids = []
    for i in range(40):
        response = client.post("/ask", json={"question": f"where is my parcel {i}"})
        assert response.status_code == 200
        ask_ids.append(response.json()["ask_id"])
    deadline = time.monotonic() + 10
    while sum(calls) < 40:
        assert time.monotonic() < deadline, calls
        time.sleep(0.05)
    assert len(calls) < 40, "one database write per ask"
    logged = [service.store.get_ask(ask_id) for ask_id in ask_ids]
    assert [record.question for record in logged] == [f"where is my parcel {i}" for i in range(40)]


def _aged(ask_id: str, age: timedelta) -> AskRecord:
    return AskRecord(ask_id, f"question {ask_id}", False, None, 0.1, 0.5, datetime.now(UTC) - age)


def _logged(store: FaqStore, ask_id: str) -> bool:
    try:
        store.get_ask(ask_id)
    except AskNotFound:
        return False
    return True


def _wait_for(condition: Callable[[], bool], timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_flusher_prunes_past_the_retention_at_start_and_then_each_interval(
    faq_store: FaqStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="samesay.ask_log")
    faq_store.record_asks([_aged("old", timedelta(days=3)), _aged("recent", timedelta(hours=1))])
    buffer = AskLogBuffer(
        faq_store, 0.05, capacity=100, retention=timedelta(days=2), prune_interval_s=0.5
    )
    buffer.start()
    try:
        _wait_for(lambda: not _logged(faq_store, "old"))  # pruned at start
        faq_store.record_asks([_aged("old-later", timedelta(days=5))])
        _wait_for(lambda: not _logged(faq_store, "old-later"))  # pruned on a later pass
    finally:
        buffer.stop()
    assert _logged(faq_store, "recent")
    # In days, as the setting is given (it read "older than 2 days, 0:00:00").
    assert "pruned 1 ask records older than 2 days" in caplog.messages


def test_no_retention_keeps_every_ask(faq_store: FaqStore) -> None:
    faq_store.record_asks([_aged("ancient", timedelta(days=10_000))])
    buffer = AskLogBuffer(faq_store, 0.05, capacity=100, retention=None, prune_interval_s=0.01)
    assert buffer.prune() == 0
    buffer.start()
    time.sleep(0.3)
    buffer.stop()
    assert _logged(faq_store, "ancient")


def test_retention_setting_in_days_and_zero_keeps_forever() -> None:
    def retention(days: int) -> timedelta | None:
        return ask_retention(Settings(_env_file=None, ask_retention_days=days))  # type: ignore[call-arg]

    assert Settings(_env_file=None).ask_retention_days == 90  # type: ignore[call-arg]
    assert retention(7) == timedelta(days=7)
    assert retention(0) is None


def test_the_service_prunes_old_asks_when_it_starts(
    tmp_path: Path, database_url: str, tiny_encoder_path: Path, make_client
) -> None:
    settings = make_settings(
        tmp_path / "data", database_url, tiny_encoder_path, ask_retention_days=1
    )
    seeded = FaqStore(settings.resolved_database_url)
    seeded.record_asks([_aged("old", timedelta(days=2)), _aged("recent", timedelta(hours=2))])
    seeded.close()
    client = make_client(settings)
    store = client.app.state.service.store
    _wait_for(lambda: not _logged(store, "old"))
    assert _logged(store, "recent")
