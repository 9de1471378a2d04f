"""Dependencies as `Annotated` aliases: the running Service and the API-key checks.

All are `async def` so FastAPI runs them on the event loop: a sync dependency would cost
/ask a threadpool hop.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.errors import ApiError
from app.service import Service

# Declares the scheme in OpenAPI (the docs' "Authorize" button); the check is ours.
_bearer = HTTPBearer(auto_error=False, scheme_name="ApiKey", description="an API key")
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def get_service(request: Request) -> Service:
    service = getattr(request.app.state, "service", None)
    if service is None:
        raise ApiError(503, "not_ready", "the service is starting; retry shortly")
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


async def require_api_key(
    request: Request, service: ServiceDep, _credentials: BearerCredentials
) -> None:
    """Writes and /admin/*: a configured key is required (403 when none is configured)."""
    service.keys.require(request.headers.get("authorization"))


async def require_read_key(request: Request, service: ServiceDep) -> None:
    """/ask and FAQ reads: a key only when Settings.ask_requires_key is on.

    No HTTPBearer sub-dependency here (unlike writes): it would cost /ask a dependency
    resolution per request for what is only OpenAPI documentation.
    """
    if service.settings.ask_requires_key:
        service.keys.require(request.headers.get("authorization"))


async def require_feedback_key(
    request: Request, service: ServiceDep, _credentials: BearerCredentials
) -> None:
    """POST /feedback: a key unless Settings.feedback_requires_key is off."""
    if service.settings.feedback_requires_key:
        service.keys.require(request.headers.get("authorization"))


ApiKey = Depends(require_api_key)
ReadKey = Depends(require_read_key)
FeedbackKey = Depends(require_feedback_key)
