"""Under stress: a database outage (reads/writes 503 with the stable body, /ask keeps answering
from memory, the ask log keeps its records until the store is back), and concurrent writes
and asks."""

from __future__ import annotations

import threading
import time

from store import schema
from store.engine import create_store_engine
from store.errors import StoreUnavailable
from store.transactions import SCHEMA_MISSING
from tests.app.conftest import AUTH


def _down(*args, **kwargs):
    raise StoreUnavailable("database unreachable (test)")


def test_store_outage(client, loaded, faq_groups, monkeypatch) -> None:
    service = client.app.state.service
    store = service.store
    for name in ("get", "add", "list_page", "record_asks", "versions", "changes_since"):
        monkeypatch.setattr(store, name, _down)
    monkeypatch.setattr(store, "unavailable_reason", lambda: "database unreachable (test)")

    response = client.get(f"/faq/{next(iter(loaded.values()))}")
    assert response.status_code == 503 and response.json()["error"]["code"] == "not_ready"
    assert response.headers["retry-after"] == "5"
    write = client.post("/faq", json={"question": "q", "answer": "a"}, headers=AUTH)
    assert write.status_code == 503
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json()["store_error"] == "database unreachable (test)"

    name, sentences = next(iter(faq_groups.items()))
    asked = client.post("/ask", json={"question": sentences[3]})
    assert asked.status_code == 200 and asked.json()["faq_id"] == loaded[name]
    time.sleep(0.5)  # several failed flushes
    assert len(service.ask_log) >= 1

    monkeypatch.undo()
    service.ask_log.flush()  # waits for a flush the background thread may be in the middle of
    assert service.store.get_ask(asked.json()["ask_id"]).faq_id == loaded[name]
    assert client.get("/readyz").status_code == 200


def test_a_database_emptied_under_the_service_is_a_503_that_says_so(
    client, loaded, faq_groups, database_url
) -> None:
    """The database dropped and created again (or the URL now naming an empty one): reads
    and writes were 500s (no such table) and /readyz said ready."""
    engine = create_store_engine(database_url)
    try:
        with engine.begin() as connection:
            schema.metadata.drop_all(connection)
            connection.exec_driver_sql("DROP TABLE alembic_version")
    finally:
        engine.dispose()

    for response in (
        client.get(f"/faq/{next(iter(loaded.values()))}"),
        client.post("/faq", json={"question": "q", "answer": "a"}, headers=AUTH),
        client.get("/admin/unanswered", headers=AUTH),
    ):
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "not_ready"
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["store_error"] == SCHEMA_MISSING
    name, sentences = next(iter(faq_groups.items()))
    asked = client.post("/ask", json={"question": sentences[3]})  # from memory, as in an outage
    assert asked.status_code == 200 and asked.json()["faq_id"] == loaded[name]


def test_concurrent_writes_and_asks(client, faq_groups) -> None:
    """Writers and askers at once: no error, and every acknowledged entry is searchable."""
    sentences = [s for group in faq_groups.values() for s in group]
    statuses: list[int] = []
    written: list[int] = []
    stop = threading.Event()

    def write(offset: int) -> None:
        for round_ in range(8):
            items = [{"question": f"{sentences[(offset + round_ + i) % len(sentences)]} {i}",
                      "answer": f"w{offset}-{round_}-{i}"} for i in range(5)]
            response = client.post("/faq", json={"items": items}, headers=AUTH)
            statuses.append(response.status_code)
            if response.status_code == 201:
                written.extend(response.json()["ids"])

    def ask() -> None:
        i = 0
        while not stop.is_set():
            response = client.post("/ask", json={"question": sentences[i % len(sentences)]})
            statuses.append(response.status_code)
            i += 1

    writers = [threading.Thread(target=write, args=(n * 7,)) for n in range(2)]
    askers = [threading.Thread(target=ask) for _ in range(3)]
    for thread in writers + askers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    for thread in askers:
        thread.join()
    assert set(statuses) <= {200, 201}, sorted(set(statuses))
    assert len(written) == 80 == len(set(written))
    ready = client.get("/readyz").json()
    assert ready["index_size"] == 80
