"""The FastAPI application factory: `create_app(settings)`; components load once in `lifespan`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from app.api.fast_ask import AskFastLane, find_ask_route
from app.api.routes import admin, ask, faq, feedback, health
from app.config import Settings
from app.console.router import console_router
from app.errors import install_error_handlers
from app.gc_pause import freeze_long_lived
from app.log import configure_logging
from app.memory import tune_malloc
from app.metrics import ServiceMetrics
from app.middleware import BodyLimitMiddleware, JsonCorsMiddleware, RequestContextMiddleware
from app.openapi import allowed_methods, exact_openapi
from app.service import Service, limit_torch_threads
from index.faq_index import set_threads
from index.searcher import Encoder

if TYPE_CHECKING:  # training imports torch, which serving never needs (app.retrain)
    from training.trainer import TrainConfig

API_DESCRIPTION = """Self-hosted FAQ retrieval: ask a question, get the matching FAQ answer when
the match is good enough. Writes and /admin/* need `Authorization: Bearer <API key>`.
Every error has the body `{"error": {"code", "message", "request_id", "details"?}}`."""


def create_app(
    settings: Settings | None = None,
    *,
    encoder: Encoder | None = None,
    train_config: TrainConfig | None = None,
) -> FastAPI:
    """Build the app. `encoder` overrides the checkpoint to serve (benchmarks); `train_config`
    the recipe used by POST /admin/retrain (tests use a tiny one). Nothing loads until the
    lifespan starts (uvicorn startup, or `with TestClient(app)`)."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    metrics = ServiceMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Before the loading threads allocate: they would get arenas of their own.
        tune_malloc(settings.malloc_arena_max, settings.malloc_mmap_threshold)
        # Loading reads the database and may rebuild the index: keep the loop free meanwhile.
        service = await run_in_threadpool(Service.open, settings, metrics, encoder, train_config)
        # /ask searches on the event-loop thread; OpenMP thread counts are per thread, so the
        # setting made while opening (in a pool thread) does not reach it. Measured: FAISS
        # with the default (all cores) cost 3-4x more CPU per request on 2 cores, and a torch
        # encoder (the MiniLM baseline) 29.6 ms per lone ask instead of ~17.
        set_threads(settings.faiss_threads)
        limit_torch_threads(settings)
        service.start()
        freeze_long_lived()  # full GC collections would walk everything loaded so far
        app.state.service = service
        try:
            yield
        finally:
            app.state.service = None
            await run_in_threadpool(service.stop)

    app = FastAPI(
        title="Samesay",
        version="0.1.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    app.state.service = None
    install_error_handlers(app)
    for module in (ask, faq, feedback, admin, health):
        app.include_router(module.router)
    app.include_router(console_router())
    # Worked out once: a 405's Allow header and the schema are the same for every request.
    app.openapi = exact_openapi(app)  # type: ignore[method-assign]
    app.state.allowed_methods = allowed_methods(app.openapi())
    # Added innermost first: the request context wraps everything, so even a 413 or a CORS
    # refusal carries a request id and is counted. The /ask fast lane is innermost: inside
    # the body limit, and replaying to the routes all it does not answer itself.
    app.add_middleware(AskFastLane, route=find_ask_route(ask.router.routes))
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            JsonCorsMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
        )
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    return app
