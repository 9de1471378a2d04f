"""POST /feedback: was the answer to an earlier ask right (and which FAQ would have been)?"""

from __future__ import annotations

from fastapi import APIRouter, status

from app.api.deps import ApiKey, ServiceDep
from app.schemas import FeedbackCreate, FeedbackPublic, error_responses

router = APIRouter(
    tags=["feedback"], responses=error_responses(400, 401, 403, 404, 413, 415, 422, 503)
)


@router.post(
    "/feedback",
    response_model=FeedbackPublic,
    status_code=status.HTTP_201_CREATED,
    dependencies=[ApiKey],
)
def add_feedback(body: FeedbackCreate, service: ServiceDep) -> FeedbackPublic:
    """Record feedback on the ask with `ask_id`; 404 if that ask or `faq_id` is unknown.

    Stored feedback is listed at GET /admin/feedback (tuning examples, new alternates).
    """
    # Asks are logged in batches: write the buffered ones so a very recent ask_id exists.
    service.ask_log.flush()
    feedback = service.store.add_feedback(body.ask_id, body.correct, body.faq_id)
    return FeedbackPublic(**vars(feedback))
