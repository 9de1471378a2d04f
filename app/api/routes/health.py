"""GET /healthz (alive), /readyz (model, index, store), /metrics (Prometheus text).

/healthz and /readyz answer HEAD too: some load balancers and uptime checkers probe with
HEAD, and FastAPI (unlike Starlette) does not add it to a GET route by itself."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from app.metrics import CONTENT_TYPE
from app.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
# HEAD: outside the OpenAPI schema (one operation id per route; the answer is GET's, bodiless).
@router.head("/healthz", include_in_schema=False)
async def healthz() -> Health:
    """The process is up and serving HTTP."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
@router.head("/readyz", include_in_schema=False)
def readyz(request: Request) -> JSONResponse:
    """200 when the model and index are loaded and the store answers; 503 otherwise."""
    service = getattr(request.app.state, "service", None)
    if service is None:
        body = Readiness(
            ready=False, model_loaded=False, index_loaded=False, store_reachable=False,
            model_version=None, index_size=None, revision=None,
        )
    else:
        body = Readiness(**service.ready())
    return JSONResponse(body.model_dump(), status_code=200 if body.ready else 503)


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Prometheus exposition of this worker's counters, histograms and gauges."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE)
