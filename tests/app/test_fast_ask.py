"""The /ask fast lane (app/api/fast_ask.py) answers like the FastAPI route it bypasses.

Which path answered is observed by counting the lane's own calls of `answer` and the
batcher's of `respond` (the route calls them through its module, the lane through imports).
"""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from app.api import ask_batch, fast_ask
from app.api.fast_ask import _read_body, _replay
from app.api.routes.ask import answer, respond
from tests.app.conftest import API_KEY, AUTH, make_settings


def _count_lane_answers(monkeypatch) -> list[int]:
    calls = [0]

    def counting(service, body):
        calls[0] += 1
        return answer(service, body)

    def counting_respond(service, body, found):
        calls[0] += 1
        return respond(service, body, found)

    monkeypatch.setattr(fast_ask, "answer", counting)
    monkeypatch.setattr(ask_batch, "respond", counting_respond)
    return calls


@pytest.fixture
def keyed_client(tmp_path, database_url, tiny_encoder_path, make_client):
    return make_client(
        make_settings(tmp_path / "keyed", database_url, tiny_encoder_path, ask_requires_key=True)
    )


def _comparable(body: dict) -> dict:
    return {key: value for key, value in body.items() if key != "ask_id"}


def test_lane_and_route_give_the_same_answer(keyed_client, faq_groups, monkeypatch) -> None:
    client = keyed_client
    name, sentences = next(iter(faq_groups.items()))
    faq = {"question": sentences[0], "answer": "A.", "alternates": sentences[1:3]}
    assert client.post("/faq", json=faq, headers=AUTH).status_code == 201
    calls = _count_lane_answers(monkeypatch)
    question = json.dumps({"question": sentences[3], "top_k": 3})
    lane = client.post(
        "/ask", content=question, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert lane.status_code == 200 and calls[0] == 1  # the lane answered
    # A +json media type is JSON to FastAPI but not taken by the lane: the route answers.
    route = client.post(
        "/ask", content=question, headers={**AUTH, "Content-Type": "application/x-ask+json"}
    )
    assert route.status_code == 200 and calls[0] == 1  # the route answered
    assert _comparable(lane.json()) == _comparable(route.json())
    assert lane.headers["content-type"] == route.headers["content-type"]
    assert int(lane.headers["content-length"]) == len(lane.content)
    assert re.fullmatch(r"[0-9a-f]{32}", lane.json()["ask_id"])
    assert lane.headers["x-request-id"]  # the outer middleware still wraps the lane


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "unauthorized"),
        ({"Authorization": "Bearer wrong-key"}, 401, "unauthorized"),
        ({"Authorization": f"Basic {API_KEY}"}, 401, "unauthorized"),
    ],
)
def test_refused_keys_are_the_routes_answer(keyed_client, monkeypatch, headers, status, code):
    calls = _count_lane_answers(monkeypatch)
    response = keyed_client.post("/ask", json={"question": "hello"}, headers=headers)
    assert response.status_code == status and response.json()["error"]["code"] == code
    assert response.headers.get("www-authenticate", "").lower().startswith("bearer")
    assert calls[0] == 0  # replayed to the route, which refused it


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b'{"question": "hi", "top_k": 0}', 422, "validation_error"),
        (b'{"question": "hi", "extra": 1}', 422, "validation_error"),
        (b'{"question": "hi"', 400, "invalid_json"),
        (b"", 422, "validation_error"),
    ],
)
def test_bad_bodies_reach_the_route(keyed_client, monkeypatch, content, status, code) -> None:
    calls = _count_lane_answers(monkeypatch)
    response = keyed_client.post(
        "/ask", content=content, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert calls[0] == 0


def test_each_answer_is_logged_and_counted_once(client, loaded, faq_groups) -> None:
    service = client.app.state.service
    recorded: list[str] = []
    original = service.store.record_asks

    def recording(records):
        recorded.extend(record.question for record in records)
        return original(records)

    service.store.record_asks = recording
    questions = next(iter(faq_groups.values()))[3:]
    for question in questions:
        assert client.post("/ask", json={"question": question}).status_code == 200
    # A conflict (min_revision out of reach) goes to the route: nothing logged for it.
    conflict = client.post("/ask", json={"question": "hello", "min_revision": 10**9})
    assert conflict.status_code == 409
    service.ask_log.flush()
    assert sorted(recorded) == sorted(questions)
    text = client.get("/metrics").text
    count = re.search(
        r'samesay_http_requests_total\{method="POST",route="/ask",status="200"\} (\S+)', text
    )
    assert count and float(count.group(1)) == len(questions)
    answered = re.findall(r"samesay_asks_total\{answered=\S+\} (\S+)", text)
    assert sum(float(value) for value in answered) == len(questions)


def test_read_body_keeps_a_disconnect_for_the_replay() -> None:
    messages = [
        {"type": "http.request", "body": b'{"q', "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive():
        return messages.pop(0)

    async def run():
        body, last = await _read_body(receive)
        replay = _replay(body, last, receive)
        return body, last, await replay(), await replay()

    body, last, first, second = asyncio.run(run())
    assert body == b'{"q' and last == {"type": "http.disconnect"}
    assert first == {"type": "http.request", "body": b'{"q', "more_body": True}
    assert second == {"type": "http.disconnect"}
