"""Concurrent asks through the fast lane are answered as one batch (app/api/ask_batch.py),
each exactly as it would be alone; a batch that fails is answered by the route, ask by ask.

The asks go straight into the ASGI app from one event loop (asyncio.gather), which is how
uvicorn hands over requests read in the same loop pass.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from app.api import ask_batch
from tests.app.conftest import AUTH, faq_body, make_settings


async def _post_ask(app, body: dict) -> tuple[int, dict]:
    content = json.dumps(body).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/ask",
        "raw_path": b"/ask",
        "query_string": b"",
        "root_path": "",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(content)).encode()),
        ],
        "app": app,
        "state": {},
    }
    sent = [False]

    async def receive():
        if sent[0]:
            await asyncio.sleep(3600)  # the client never disconnects during the test
        sent[0] = True
        return {"type": "http.request", "body": content, "more_body": False}

    status, chunks = [0], []

    async def send(message):
        if message["type"] == "http.response.start":
            status[0] = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status[0], json.loads(b"".join(chunks))


def _ask_together(app, bodies: list[dict]) -> list[tuple[int, dict]]:
    async def run():
        # Bounded: an ask the batcher never answered would otherwise hang the test run.
        asks = asyncio.gather(*(_post_ask(app, body) for body in bodies))
        return await asyncio.wait_for(asks, timeout=30)

    return asyncio.run(run())


def _without_id(body: dict) -> dict:
    return {key: value for key, value in body.items() if key != "ask_id"}


def _batches(service) -> tuple[float, float]:
    """(batches answered, asks in them) from the batch-size histogram."""
    registry = service.metrics.registry
    count = registry.get_sample_value("samesay_ask_batch_size_count") or 0.0
    total = registry.get_sample_value("samesay_ask_batch_size_sum") or 0.0
    return count, total


def _load(client, faq_groups) -> None:
    items = [faq_body(name, sentences) for name, sentences in faq_groups.items()]
    assert client.post("/faq", json={"items": items}, headers=AUTH).status_code == 201


def _bodies(faq_groups) -> list[dict]:
    questions = [sentences[3] for sentences in faq_groups.values()][:5]
    bodies: list[dict] = [{"question": q, "top_k": 1 + n % 3} for n, q in enumerate(questions)]
    bodies[1]["threshold"] = 0.99  # per-ask settings stay per ask inside a batch
    bodies[2]["tags"] = ["no-such-tag"]
    return bodies


def test_concurrent_asks_share_one_batch_and_answer_as_alone(client, loaded, faq_groups) -> None:
    service = client.app.state.service
    bodies = _bodies(faq_groups)
    alone = [client.post("/ask", json=body).json() for body in bodies]
    assert _batches(service) == (len(bodies), len(bodies))  # one at a time: batches of 1
    together = _ask_together(client.app, bodies)
    assert _batches(service) == (len(bodies) + 1, 2 * len(bodies))  # then one batch of 5
    assert [status for status, _ in together] == [200] * len(bodies)
    for (_, got), expected in zip(together, alone, strict=True):
        assert [m["faq_id"] for m in got["matches"]] == [m["faq_id"] for m in expected["matches"]]
        assert got["score"] == pytest.approx(expected["score"], abs=1e-5)
        got["score"] = expected["score"]
        for got_match, expected_match in zip(got["matches"], expected["matches"], strict=True):
            got_match["score"] = expected_match["score"]
        assert _without_id(got) == _without_id(expected)
    assert together[1][1]["answered"] is False and together[2][1]["matches"] == []
    assert len({body["ask_id"] for _, body in together}) == len(bodies)


@pytest.mark.parametrize(
    ("ask_batch_max", "batches"),
    [(2, (3, 5)), (1, (0, 0))],  # 2 + 2 + 1; 1 answers each alone, outside the batcher
)
def test_ask_batch_max_caps_the_batches(
    tmp_path, database_url, tiny_encoder_path, make_client, faq_groups, ask_batch_max, batches
) -> None:
    settings = make_settings(
        tmp_path / "capped", database_url, tiny_encoder_path, ask_batch_max=ask_batch_max
    )
    client = make_client(settings)
    _load(client, faq_groups)
    results = _ask_together(client.app, _bodies(faq_groups))
    assert [status for status, _ in results] == [200] * 5
    assert _batches(client.app.state.service) == batches


def test_a_failed_batch_is_answered_by_the_route(client, loaded, faq_groups, monkeypatch) -> None:
    service = client.app.state.service

    def broken(queries):
        raise RuntimeError("batched search broke")

    monkeypatch.setattr(service.searcher, "search_many", broken)
    bodies = _bodies(faq_groups)
    results = _ask_together(client.app, bodies)
    # The route searched each ask alone (search, not search_many), and logged each once.
    assert [status for status, _ in results] == [200] * len(bodies)
    assert _batches(service) == (0, 0)
    service.ask_log.flush()
    logged = [service.store.get_ask(body["ask_id"]).question for _, body in results]
    assert logged == [body["question"] for body in bodies]


def test_no_ask_waits_forever_when_answering_a_batch_breaks(
    client, loaded, faq_groups, monkeypatch
) -> None:
    def broken(batch):
        raise RuntimeError("the batch broke outside the search")

    monkeypatch.setattr(ask_batch, "_answer_batch", broken)
    bodies = _bodies(faq_groups)
    results = _ask_together(client.app, bodies)  # the route answers each
    assert [status for status, _ in results] == [200] * len(bodies)
