"""The one place that turns errors into HTTP responses with a stable, documented body.

Every error response has the body
    {"error": {"code": "<stable code>", "message": "<human text>", "request_id": "...",
               "details": [...]}}        # details only for validation errors
and never a traceback. Codes (status):

    invalid_json (400)           the body is not parseable JSON / not UTF-8
    unauthorized (401)           missing, wrong or non-ASCII API key
    writes_disabled (403)        no API keys configured: set SAMESAY_API_KEYS
    not_found (404)              no such route
    faq_not_found (404)          no FAQ entry with that id
    ask_not_found (404)          no logged ask with that id
    method_not_allowed (405)     `Allow` lists every method of the path
    conflict (409)               e.g. a retrain is already running
    precondition_failed (412)    If-Match named another revision than the entry's (someone
                                 changed it since): nothing written; ETag has the current one
    cors_refused (400)           a CORS preflight from an origin/method not configured
    payload_too_large (413)      body over Settings.max_body_bytes
    unsupported_media_type (415) a route that takes a JSON body got one typed as something
                                 else (text/plain, a form) or not typed: send Content-Type:
                                 application/json
    validation_error (422)       a field is missing, of the wrong type, out of range, too long,
                                 blank or only invisible characters, contains NUL / lone
                                 surrogates, or is unknown; a tuning target without precision
    unknown_faq_ids (422)        tuning examples name FAQ ids that are not in the store
    not_ready (503)              model/index not loaded yet, or store unreachable
    internal_error (500)         a bug: logged with the request id, no detail leaks
"""

from __future__ import annotations

import email.message
import json
import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.log import current_request_id
from app.retrain import RetrainConflict
from app.schemas import UNION_TAGS, entity_tag
from app.tuning_errors import NothingToTune, UnknownFaqIds
from index.errors import FaqIndexError, IndexInputError, SwapInProgressError
from model.errors import ModelError
from store.errors import AskNotFound, FaqChanged, FaqNotFound, StoreError, StoreValidationError

logger = logging.getLogger("samesay.app")

INTERNAL_ERROR_MESSAGE = "internal error; the request id identifies it in the logs"
# An outage's 503 says when to try again: clients that honour it back off instead of
# hammering a store that is coming back (a connection attempt gives up after 5 s).
RETRY_AFTER_S = "5"
NOT_JSON_MESSAGE = "the request body must be JSON: send Content-Type: application/json"


class ApiError(Exception):
    """Raised by routes for a 4xx/5xx with a stable code; rendered by `error_response`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Sequence[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


def error_body(code: str, message: str, details: Sequence[dict[str, Any]] | None = None) -> bytes:
    error: dict[str, Any] = {"code": code, "message": message}
    request_id = current_request_id()
    if request_id:
        error["request_id"] = request_id
    if details is not None:
        error["details"] = list(details)
    # ensure_ascii: a lone surrogate echoed in a message stays encodable; allow_nan=False
    # because NaN is not JSON (default=str turns anything odd into text instead of failing).
    return json.dumps({"error": error}, ensure_ascii=True, allow_nan=False, default=str).encode()


def error_response(
    status: int,
    code: str,
    message: str,
    details: Sequence[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        error_body(code, message, details),
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


def _field_path(location: Sequence[Any]) -> str:
    # ("body", "items", 3, "question") -> "items[3].question"; the "body"/"query" prefix is
    # noise, and so is a tagged union's tag after it (app.schemas.UNION_TAGS).
    parts = list(location)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    if parts and parts[0] in UNION_TAGS:
        parts = parts[1:]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def _validation_details(errors: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    # Never echo `input`: it may hold megabytes, NaN or lone surrogates.
    return [
        {
            "field": _field_path(error.get("loc", ())),
            "message": str(error.get("msg", "invalid value")),
            "type": str(error.get("type", "value_error")),
        }
        for error in errors[:50]
    ]


async def _on_api_error(request: Request, error: ApiError) -> Response:
    return error_response(error.status, error.code, error.message, error.details, error.headers)


def _is_json(content_type: str) -> bool:
    # FastAPI's own test (fastapi.routing): application/json or application/<anything>+json.
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def _body_not_json(request: Request) -> bool:
    """Whether a route that takes a JSON body got one typed as something else, or not typed
    at all (FastAPI reads neither as JSON). It then validates the raw bytes, and its "should
    be a valid dictionary" hides the real mistake."""
    if getattr(request.scope.get("route"), "body_field", None) is None:
        return False
    content_type = request.headers.get("content-type")
    if content_type is None:  # e.g. requests.post(url, data=json_text)
        length = request.headers.get("content-length")
        return (length is not None and length != "0") or "transfer-encoding" in request.headers
    return not _is_json(content_type)


async def _on_validation_error(request: Request, error: RequestValidationError) -> Response:
    if _body_not_json(request):
        return error_response(415, "unsupported_media_type", NOT_JSON_MESSAGE)
    errors = list(error.errors())
    broken = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if broken is not None:
        return error_response(400, "invalid_json", "the request body is not valid JSON",
                              [_json_error_detail(broken)])
    return error_response(
        422, "validation_error", "the request is invalid", _validation_details(errors)
    )


def _json_error_detail(error: dict[str, Any]) -> dict[str, str]:
    # FastAPI puts the decoder's reason in ctx and its character offset after "body".
    location = list(error.get("loc", ()))
    reason = str((error.get("ctx") or {}).get("error", "cannot be parsed"))
    where = f" at character {location[1]}" if len(location) > 1 else ""
    return {"field": "body", "message": reason + where, "type": "json_invalid"}


# Why a body FastAPI could not parse was refused, where it is not malformed JSON as such.
TOO_DEEP_MESSAGE = "the request body is nested too deeply to read"

_HTTP_CODES = {
    400: ("invalid_json", "the request body is not valid JSON"),
    404: ("not_found", "no such route"),
    405: ("method_not_allowed", "method not allowed on this route"),
    413: ("payload_too_large", "the request body is too large"),
}


async def _on_http_exception(request: Request, error: StarletteHTTPException) -> Response:
    code, message = _HTTP_CODES.get(error.status_code, ("http_error", str(error.detail)))
    if error.status_code == 400 and isinstance(error.__cause__, RecursionError):
        message = TOO_DEEP_MESSAGE  # valid JSON, deeper than the parser's recursion limit
    headers = dict(error.headers) if error.headers else None
    if error.status_code == 405:
        # Starlette's Allow names only the route that matched first; list the whole path's.
        route = request.scope.get("route")
        allowed = getattr(request.app.state, "allowed_methods", {})
        path = getattr(route, "path", None)
        if path in allowed:
            headers = {**(headers or {}), "Allow": allowed[path]}
    return error_response(error.status_code, code, message, headers=headers)


async def _on_store_validation(request: Request, error: StoreValidationError) -> Response:
    details = [{"field": error.field, "message": error.message, "type": "value_error"}]
    return error_response(422, "validation_error", str(error), details)


async def _on_faq_not_found(request: Request, error: FaqNotFound) -> Response:
    return error_response(404, "faq_not_found", str(error))


async def _on_faq_changed(request: Request, error: FaqChanged) -> Response:
    headers = {"ETag": entity_tag(error.revision)}
    return error_response(412, "precondition_failed", str(error), headers=headers)


async def _on_ask_not_found(request: Request, error: AskNotFound) -> Response:
    return error_response(404, "ask_not_found", str(error))


async def _on_conflict(request: Request, error: Exception) -> Response:
    """A domain error that says the request cannot be served in the current state."""
    return error_response(409, "conflict", str(error))


async def _on_unknown_faq_ids(request: Request, error: UnknownFaqIds) -> Response:
    return error_response(422, "unknown_faq_ids", str(error), details=error.details[:50])


async def _on_index_input(request: Request, error: IndexInputError) -> Response:
    return error_response(422, "validation_error", str(error))


async def _on_unavailable(request: Request, error: Exception) -> Response:
    logger.error("dependency unavailable: %s", type(error).__name__, exc_info=error)
    return error_response(
        503,
        "not_ready",
        "the service cannot reach its store or index right now; retry",
        headers={"Retry-After": RETRY_AFTER_S},
    )


async def _on_unexpected(request: Request, error: Exception) -> Response:
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return error_response(500, "internal_error", INTERNAL_ERROR_MESSAGE)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _on_api_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)  # type: ignore[arg-type]
    app.add_exception_handler(StoreValidationError, _on_store_validation)  # type: ignore[arg-type]
    app.add_exception_handler(FaqNotFound, _on_faq_not_found)  # type: ignore[arg-type]
    app.add_exception_handler(FaqChanged, _on_faq_changed)  # type: ignore[arg-type]
    app.add_exception_handler(AskNotFound, _on_ask_not_found)  # type: ignore[arg-type]
    app.add_exception_handler(IndexInputError, _on_index_input)  # type: ignore[arg-type]
    app.add_exception_handler(UnknownFaqIds, _on_unknown_faq_ids)  # type: ignore[arg-type]
    for conflict in (SwapInProgressError, RetrainConflict, NothingToTune):
        app.add_exception_handler(conflict, _on_conflict)
    for unavailable in (OperationalError, InterfaceError, StoreError, FaqIndexError, ModelError):
        app.add_exception_handler(unavailable, _on_unavailable)
    # Starlette routes `Exception` handlers to ServerErrorMiddleware: the last line of defence.
    app.add_exception_handler(Exception, _on_unexpected)
