"""POST /feedback: was the answer to an earlier ask right (and which FAQ would have been)?"""

from __future__ import annotations

import time

from fastapi import APIRouter, status

from app.api.deps import FeedbackKey, ServiceDep
from app.ask_ids import flush_window_s, seconds_since_issued
from app.schemas import FeedbackCreate, FeedbackPublic, error_responses
from store.errors import AskNotFound

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
def add_feedback(body: FeedbackCreate, service: ServiceDep) -> FeedbackPublic:
    """Record feedback on the ask with `ask_id`; 404 if that ask or `faq_id` is unknown.

    Stored feedback is listed at GET /admin/feedback (tuning examples, new alternates).
    """
    # Asks are logged in batches: write the buffered ones so a very recent ask_id exists.
    service.ask_log.flush()
    window = flush_window_s(service.settings.ask_log_flush_s)
    while True:
        try:
            feedback = service.store.add_feedback(body.ask_id, body.correct, body.faq_id)
            return FeedbackPublic(**vars(feedback))
        except AskNotFound:
            # Another worker may still hold the ask in memory (app.ask_ids).
            age = seconds_since_issued(body.ask_id)
            if age is None or not -window < age < window:
                raise
            time.sleep(_RETRY_S)
