"""POST /feedback: was the answer to an earlier ask right (and which FAQ would have been)?"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, status
from starlette.concurrency import run_in_threadpool

from app.api.deps import FeedbackKey, ServiceDep
from app.ask_ids import flush_window_s, seconds_since_issued
from app.schemas import FeedbackCreate, FeedbackPublic, error_responses
from app.service import Service
from store.errors import AskNotFound
from store.records import Feedback

# How often feedback looks again for an ask another worker has not written yet.
_RETRY_S = 0.05

router = APIRouter(
    tags=["feedback"], responses=error_responses(400, 401, 403, 404, 413, 415, 422, 503)
)


@router.post(
    "/feedback",
    response_model=FeedbackPublic,
    status_code=status.HTTP_201_CREATED,
    dependencies=[FeedbackKey],
)
async def add_feedback(body: FeedbackCreate, service: ServiceDep) -> FeedbackPublic:
    """Record feedback on the ask with `ask_id`; 404 if that ask or `faq_id` is unknown.

    Stored feedback is listed at GET /admin/feedback (tuning examples, new alternates).
    """
    try:
        feedback = await run_in_threadpool(_store, service, body)
    except AskNotFound:
        await _wait_for_another_workers_ask(service, body.ask_id)
        feedback = await run_in_threadpool(_store, service, body)
    return FeedbackPublic(**vars(feedback))


def _store(service: Service, body: FeedbackCreate) -> Feedback:
    # Asks are logged in batches: write the buffered ones so a very recent ask_id exists.
    service.ask_log.flush()
    return service.store.add_feedback(body.ask_id, body.correct, body.faq_id)


async def _wait_for_another_workers_ask(service: Service, ask_id: str) -> None:
    """Return once `ask_id` is stored, when it was issued within the flush window: another
    worker may still hold it in memory (app.ask_ids). Raise AskNotFound otherwise. The wait
    holds no thread and looks with reads: with SAMESAY_FEEDBACK_REQUIRES_KEY off anyone can
    make up a recent-looking id, and a sleeping thread or a write transaction per look would
    let them tie up the pool or the database's one writer."""
    window = flush_window_s(service.settings.ask_log_flush_s)
    while True:
        age = seconds_since_issued(ask_id)
        if age is None or not -window < age < window:
            raise AskNotFound(ask_id)
        await asyncio.sleep(_RETRY_S)
        try:
            await run_in_threadpool(service.store.get_ask, ask_id)
            return
        except AskNotFound:
            continue
