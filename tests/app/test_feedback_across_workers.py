"""Feedback on an ask another worker has not written yet: waited for while the ask is
recent (app.ask_ids), a 404 at once for an unknown or old id."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from app.ask_ids import flush_window_s, new_ask_id, seconds_since_issued
from store.records import AskRecord
from tests.app.conftest import AUTH


def test_ask_ids_carry_the_time_they_were_issued() -> None:
    ids = {new_ask_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert all(0 <= seconds_since_issued(i) < 5 for i in ids)
    assert seconds_since_issued("not-hex-but-32-characters-long!!") is None
    assert seconds_since_issued("short") is None
    # An id of the old shape (uuid4 hex) reads as a time millennia away: never waited for.
    assert abs(seconds_since_issued("9f1c2b3a4d5e4f708192a3b4c5d6e7f8")) > 1e9


def _another_workers_ask(ask_id: str) -> AskRecord:
    return AskRecord(ask_id, "Where is my parcel?", False, None, 0.2, 0.5, datetime.now(UTC))


def test_feedback_waits_for_an_ask_another_worker_writes_late(client, loaded) -> None:
    store = client.app.state.service.store
    ask_id = new_ask_id()
    # The other worker's flush, half a second after its ask.
    threading.Timer(0.5, lambda: store.record_asks([_another_workers_ask(ask_id)])).start()
    started = time.monotonic()
    response = client.post("/feedback", json={"ask_id": ask_id, "correct": True}, headers=AUTH)
    assert response.status_code == 201, response.text
    assert 0.4 < time.monotonic() - started < 2


def test_an_unknown_ask_is_a_404_at_once_and_a_recent_one_after_the_window(
    client, settings
) -> None:
    started = time.monotonic()
    old = client.post("/feedback", json={"ask_id": "0" * 32, "correct": True}, headers=AUTH)
    assert old.status_code == 404 and time.monotonic() - started < 1  # the window is 2 s
    started = time.monotonic()
    recent = client.post("/feedback", json={"ask_id": new_ask_id(), "correct": True},
                         headers=AUTH)
    waited = time.monotonic() - started
    assert recent.status_code == 404 and recent.json()["error"]["code"] == "ask_not_found"
    window = flush_window_s(settings.ask_log_flush_s)
    assert window - 0.5 < waited < window + 1


def test_waiting_feedback_holds_no_thread(client) -> None:
    """Made-up recent ids (anyone can send them with SAMESAY_FEEDBACK_REQUIRES_KEY off) must
    not tie up the threadpool (40 threads) that the other routes run in."""
    def post_made_up_feedback() -> int:
        body = {"ask_id": new_ask_id(), "correct": True}
        return client.post("/feedback", json=body, headers=AUTH).status_code

    with ThreadPoolExecutor(60) as pool:
        waiting = [pool.submit(post_made_up_feedback) for _ in range(60)]
        time.sleep(0.5)  # every one of them is waiting for its ask by now
        started = time.monotonic()
        assert client.get("/faq").status_code == 200  # a sync route: needs a pool thread
        assert time.monotonic() - started < 0.5  # held threads: until the window ends (~1 s)
        assert [future.result() for future in waiting] == [404] * 60
