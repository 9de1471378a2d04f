"""The buffered ask log: batches, survives store errors, bounded, never a write per ask."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from app.ask_log import AskLogBuffer
from store.records import AskRecord


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
        calls.append(len(records))
        return original(records)

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
