"""Pure-ASGI middleware: request id + access log + metrics, and the request body size cap.

Pure ASGI (not BaseHTTPMiddleware) because /ask is sub-millisecond and every layer counts.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import INTERNAL_ERROR_MESSAGE, error_response
from app.log import request_id_from, reset_request_id, set_request_id
from app.metrics import ServiceMetrics

access_logger = logging.getLogger("samesay.access")
error_logger = logging.getLogger("samesay.app")

UNMATCHED = "unmatched"  # the route label of a request no route matched (a 404, a redirect)
UNNAMED = "unnamed"  # matched a route not among the app's own (one inside an included router)


def _templates_by_endpoint(app: Any) -> dict[int, str]:
    """id(endpoint) -> path template for the app's routes that leave only their endpoint in
    the scope (plain Starlette routes: /openapi.json, /docs, /redoc; FastAPI's set "route").
    Keyed by id: a mounted app's endpoint may be unhashable (a Router defines __eq__)."""
    table: dict[int, str] = {}
    for route in getattr(app, "routes", ()):
        # A Route's scope carries its endpoint; a Mount's, the app it mounts.
        endpoint = getattr(route, "endpoint", None) or getattr(route, "app", None)
        path = getattr(route, "path", None)
        if endpoint is not None and path:
            table.setdefault(id(endpoint), path)
    return table


class RequestContextMiddleware:
    """Gives each request an id (X-Request-ID in and out), logs it, and counts it."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics
        self._templates: dict[int, str] = {}  # filled on first need: routes exist by then

    def _route_label(self, scope: Scope) -> str:
        """The matched route's path template (/faq/{faq_id}), never the raw path: bounded
        label values. FastAPI's routes put themselves in scope["route"] (the /ask hot path
        stops there); a plain Starlette route leaves only scope["endpoint"], looked up in a
        table of the app's routes. The table is rebuilt only when an endpoint is missing from
        it, and the answer is kept, so the routes are scanned once per endpoint, not per
        request."""
        route = scope.get("route")
        if route is not None:
            return getattr(route, "path", None) or UNNAMED
        endpoint = scope.get("endpoint")
        if endpoint is None:
            return UNMATCHED
        template = self._templates.get(id(endpoint))
        if template is None:
            self._templates = _templates_by_endpoint(scope.get("app"))
            template = self._templates.setdefault(id(endpoint), UNNAMED)
        return template

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = request_id_from(incoming)
        token = set_request_id(request_id)
        started = time.perf_counter()
        response_started = [False]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_started[0] = True
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode("ascii")),
                ]
                elapsed = time.perf_counter() - started
                template = self._route_label(scope)
                method = scope["method"]
                self.metrics.latency.labels(template, method).observe(elapsed)
                self.metrics.requests.labels(template, method, str(message["status"])).inc()
                if access_logger.isEnabledFor(logging.INFO):
                    access_logger.info(
                        "request",
                        extra={
                            "method": method,
                            "route": template,
                            "status": message["status"],
                            "duration_ms": round(elapsed * 1000, 3),
                        },
                    )
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Handled here rather than by Starlette's ServerErrorMiddleware so the 500 still
            # carries the request id; the traceback goes to the log, never to the client.
            error_logger.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if not response_started[0]:
                response = error_response(500, "internal_error", INTERNAL_ERROR_MESSAGE)
                await response(scope, receive, send_with_id)
        finally:
            reset_request_id(token)


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """413 for bodies over `max_bytes`: by Content-Length up front, else by counting the stream.

    The body is read here (bounded) and replayed to the app, so an oversized chunked upload
    is refused before any parsing, with the same stable error body.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> object:
        return error_response(
            413,
            "payload_too_large",
            f"the request body is larger than {self.max_bytes} bytes",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0:
                    response = error_response(
                        400, "invalid_request", "Content-Length is not a non-negative integer"
                    )
                    await response(scope, receive, send)  # type: ignore[operator]
                    return
                if declared > self.max_bytes:
                    await self._too_large()(scope, receive, send)  # type: ignore[operator]
                    return
                break

        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away; nothing to answer
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                await self._too_large()(scope, receive, send)  # type: ignore[operator]
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class JsonCorsMiddleware(CORSMiddleware):
    """Starlette's CORS, with a refused preflight answered in the stable JSON error body."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        refusal = error_response(
            response.status_code, "cors_refused", response.body.decode("latin-1")
        )
        # Keep the CORS headers Starlette computed (Vary etc.), but not its length/type.
        for name, value in response.headers.items():
            if name not in ("content-length", "content-type"):
                refusal.headers[name] = value
        return refusal
