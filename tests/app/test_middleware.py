"""The body cap and request-context middleware, driven directly over ASGI."""

from __future__ import annotations

import asyncio
import json
import logging

from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.responses import PlainTextResponse

from app.log import JsonFormatter, request_id_from
from app.metrics import ServiceMetrics
from app.middleware import BodyLimitMiddleware, RequestContextMiddleware


class EchoApp:
    """Answers with the number of body bytes it received."""

    def __init__(self) -> None:
        self.called = False

    async def __call__(self, scope, receive, send) -> None:
        self.called = True
        size = 0
        while True:
            message = await receive()
            size += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(size).encode()})


def _drive(app, chunks: list[bytes], headers: list[tuple[bytes, bytes]] | None = None):
    scope = {"type": "http", "method": "POST", "path": "/x", "headers": headers or []}
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent: list[dict] = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def test_streamed_body_over_the_cap_is_413_before_the_app_runs() -> None:
    inner = EchoApp()
    sent = _drive(BodyLimitMiddleware(inner, max_bytes=1000), [b"x" * 400] * 3)
    assert sent[0]["status"] == 413 and not inner.called
    assert json.loads(sent[1]["body"])["error"]["code"] == "payload_too_large"


def test_streamed_body_under_the_cap_is_replayed_whole() -> None:
    sent = _drive(BodyLimitMiddleware(EchoApp(), max_bytes=1000), [b"x" * 300] * 3)
    assert sent[0]["status"] == 200 and sent[1]["body"] == b"900"


def test_declared_length_over_the_cap_or_invalid() -> None:
    inner = EchoApp()
    over = _drive(BodyLimitMiddleware(inner, 1000), [b""], [(b"content-length", b"5000")])
    assert over[0]["status"] == 413 and not inner.called
    junk = _drive(BodyLimitMiddleware(inner, 1000), [b""], [(b"content-length", b"-3")])
    assert junk[0]["status"] == 400


def test_request_context_sets_ids_counts_and_hides_errors() -> None:
    async def boom(scope, receive, send):
        raise RuntimeError("secret internals")

    metrics = ServiceMetrics()
    sent = _drive(RequestContextMiddleware(boom, metrics), [b""],
                  [(b"x-request-id", b"abc-123")])
    assert sent[0]["status"] == 500
    assert (b"x-request-id", b"abc-123") in sent[0]["headers"]
    body = json.loads(sent[1]["body"])
    assert body["error"]["code"] == "internal_error" and body["error"]["request_id"] == "abc-123"
    assert b"secret" not in sent[1]["body"]
    assert b'route="unmatched",status="500"' in metrics.render()


def test_every_matched_route_is_counted_by_its_template() -> None:
    # FastAPI's own pages (/openapi.json, /docs, ...) are plain Starlette routes: they set
    # no scope["route"], and were counted as "unmatched" with status 200.
    app = FastAPI()

    @app.get("/items/{item_id}")
    def item(item_id: int) -> dict:
        return {"id": item_id}

    app.add_route("/plain/{name}", lambda request: PlainTextResponse("hi"))
    metrics = ServiceMetrics()
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    client = TestClient(app)
    paths = {"/openapi.json": "/openapi.json", "/docs": "/docs", "/redoc": "/redoc",
             "/docs/oauth2-redirect": "/docs/oauth2-redirect", "/items/7": "/items/{item_id}",
             "/plain/x": "/plain/{name}", "/plain/y": "/plain/{name}"}
    for path in paths:
        assert client.get(path).status_code == 200, path
    assert client.get("/no-such-page").status_code == 404

    text = metrics.render().decode()
    counted = {line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines()
               if line.startswith("samesay_http_requests_total{")}
    label = 'samesay_http_requests_total{{method="GET",route="{}",status="{}"}}'
    expected = {label.format(template, 200): float(list(paths.values()).count(template))
                for template in paths.values()}
    assert counted == {**expected, label.format("unmatched", 404): 1.0}


def test_request_ids_are_sanitised() -> None:
    assert request_id_from("trace.1:2-3_x") == "trace.1:2-3_x"
    for bad in (None, "", "has space", "x" * 129, "é", "a\nb"):
        generated = request_id_from(bad)
        assert generated != bad and len(generated) == 32


def test_access_log_carries_the_request_id(client, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="samesay.access"):
        client.get("/healthz", headers={"X-Request-ID": "req-42"})
    record = next(r for r in caplog.records if r.name == "samesay.access")
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-42"
    assert (line["route"], line["status"], line["method"]) == ("/healthz", 200, "GET")


def test_json_log_lines_carry_extras() -> None:
    record = logging.LogRecord("samesay.x", logging.INFO, __file__, 1, "hi %s", ("there",), None)
    record.route = "/ask"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hi there" and line["route"] == "/ask" and line["level"] == "INFO"
