"""The /ask fast lane: a well-formed, authorised POST /ask answered without FastAPI's routing.

FastAPI's per-request machinery (routing, dependency solving, body parsing and validation,
the exception and exit-stack layers) measured ~0.3 ms of CPU on a request whose search
takes ~1 ms: most of the non-search cost of /ask. This pure-ASGI layer sits innermost in
the middleware stack (inside the request id, metrics, CORS and body limit) and answers the
common case itself: JSON content type, a body `AskRequest` accepts, a key when one is
required, a ready service.

Everything else (any validation error, a refused key, `min_revision` still out of reach,
the service not ready, an exception) is replayed to the FastAPI route unchanged, so error
bodies, statuses and headers are the route's own by construction, not a copy of them.
Nothing is logged or counted before the answer is certain, so a replay never counts twice.
Asks that arrive together are answered as one batch (app/api/ask_batch.py).
"""

from __future__ import annotations

from pydantic import ValidationError
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.ask_batch import AskBatcher
from app.api.routes.ask import answer, reach_revision
from app.errors import ApiError
from app.schemas import AskRequest
from app.service import Service

ASK_PATH = "/ask"
_JSON_HEADERS = [(b"content-type", b"application/json")]


class AskFastLane:
    def __init__(self, app: ASGIApp, route: BaseRoute) -> None:
        self.app = app
        # Set on the scope as the router would: the metrics label the request "/ask".
        self.route = route
        self.batcher = AskBatcher()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != ASK_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body, more = await _read_body(receive)
        if more is not None:  # the client went away mid-body: let the route see the same
            await self.app(scope, _replay(body, more, receive), send)
            return
        service: Service | None = getattr(scope["app"].state, "service", None)
        payload = None
        if service is not None and _is_json(scope) and _authorised(service, scope):
            try:
                request = AskRequest.model_validate_json(body)
            except ValidationError:
                request = None
            try:
                if request is not None and await reach_revision(service, request.min_revision):
                    max_batch = service.settings.ask_batch_max
                    if max_batch > 1:
                        payload = await self.batcher.answer(service, request, max_batch)
                    else:
                        payload = answer(service, request)
            except Exception:  # the route answers it (and its handlers log it) on replay
                payload = None
        if payload is None:
            await self.app(scope, _replay(body, None, receive), send)
            return
        scope["route"] = self.route
        headers = [*_JSON_HEADERS, (b"content-length", str(len(payload)).encode("ascii"))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def find_ask_route(routes: list[BaseRoute]) -> BaseRoute:
    for route in routes:
        if getattr(route, "path", None) == ASK_PATH:
            return route
    raise LookupError("no /ask route to fall back on")


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            media_type = value.split(b";", 1)[0].strip().lower()
            return media_type == b"application/json"
    return False


def _authorised(service: Service, scope: Scope) -> bool:
    """The route's own key check (ApiKeyChecker.require) on the first Authorization header,
    decoded as Starlette decodes it: the lane accepts exactly the keys the route accepts."""
    if not service.settings.ask_requires_key:
        return True
    header = next((value for name, value in scope["headers"] if name == b"authorization"), None)
    try:
        service.keys.require(None if header is None else header.decode("latin-1"))
    except ApiError:
        return False
    return True


async def _read_body(receive: Receive) -> tuple[bytes, Message | None]:
    """The whole body, or what came before a non-body message (returned as the second item).

    BodyLimitMiddleware has already read and capped it, so this is one replayed message."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _replay(body: bytes, last: Message | None, receive: Receive) -> Receive:
    sent = [False, False]

    async def replay() -> Message:
        if not sent[0]:
            sent[0] = True
            return {"type": "http.request", "body": body, "more_body": last is not None}
        if last is not None and not sent[1]:
            sent[1] = True
            return last
        return await receive()

    return replay
