"""Admin routes (API key required): threshold, tuning, unanswered questions, feedback, retrain."""

from __future__ import annotations

import logging
from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.api.deps import ApiKey, ServiceDep
from app.errors import ApiError
from app.last_tuning import load_last_tuning
from app.retrain_record import RetrainState
from app.review_queue import review_queue
from app.schemas import (
    CurvePoint,
    DateTimeQuery,
    FeedbackPublic,
    FeedbackScore,
    FeedbackTuneRequest,
    LastTuning,
    RetrainStatus,
    ReviewItem,
    ReviewQueue,
    ThresholdPublic,
    ThresholdUpdate,
    TuneRequest,
    TuneResponse,
    UnansweredList,
    UnansweredPublic,
    error_responses,
)
from app.service import Service
from app.tuning import TuneOutcome, score_on_feedback, tune_from_examples, tune_from_feedback

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[ApiKey],
    responses=error_responses(400, 401, 403, 409, 413, 422, 503),
)
logger = logging.getLogger("samesay.app")


@router.get("/threshold", response_model=ThresholdPublic)
def get_threshold(service: ServiceDep) -> ThresholdPublic:
    """The global threshold: `source` says whether it was set (store) or is the default."""
    state = service.threshold
    return ThresholdPublic(threshold=state.value, source=state.source)  # type: ignore[arg-type]


@router.put("/threshold", response_model=ThresholdPublic, responses=error_responses(415))
def put_threshold(body: ThresholdUpdate, service: ServiceDep) -> ThresholdPublic:
    """Set the global threshold (persisted in the store: every worker follows)."""
    service.set_threshold(body.threshold)
    return ThresholdPublic(threshold=body.threshold, source="store")


@router.post("/threshold/tune", response_model=TuneResponse, responses=error_responses(415))
def tune(body: TuneRequest, service: ServiceDep) -> TuneResponse:
    """Recommend (and with `apply`, set) the threshold from labelled examples.

    Each example is a question and the FAQ id it should get, or null when it should not be
    answered. Objectives: `accuracy` (CLINC150: in-scope right when answered with the right
    id, out-of-scope right when not answered), `f1`, or `precision` with `target` (the
    lowest threshold whose precision reaches it). The whole curve comes back for plotting,
    and a PNG of it is written to the data directory (`plot_path`).
    """
    outcome = tune_from_examples(
        service,
        [(example.question, example.faq_id) for example in body.examples],
        body.objective,
        body.target,
        body.apply,
    )
    return _tuned(outcome)


@router.post(
    "/threshold/tune/feedback", response_model=TuneResponse, responses=error_responses(415)
)
def tune_on_feedback(body: FeedbackTuneRequest, service: ServiceDep) -> TuneResponse:
    """Tune as above on the stored feedback: a right answer expects its FAQ, a wrong one the
    FAQ it names, or no answer when it names none; 409 when no feedback is usable. Fewer than
    10 questions, or none of one kind: a `warning`, and `apply` is a 409."""
    return _tuned(tune_from_feedback(service, body.objective, body.target, body.apply))


@router.get("/threshold/curve", response_model=LastTuning, responses=error_responses(404))
def last_tuning(service: ServiceDep) -> LastTuning:
    """The curve of the last tuning (or of the first start's, on the demo); 404 before any."""
    record = load_last_tuning(service.store, service.settings.data_dir)
    if record is None:
        raise ApiError(404, "not_found", "no threshold tuning has run yet: POST "
                       "/admin/threshold/tune or /admin/threshold/tune/feedback")
    return LastTuning(**record, current_threshold=service.threshold.value)


def _tuned(outcome: TuneOutcome) -> TuneResponse:
    choice, curve = outcome.choice, outcome.choice.curve
    return TuneResponse(
        threshold=outcome.threshold,
        objective=choice.objective,
        target=choice.target,
        target_met=choice.target_met,
        applied=outcome.applied,
        metrics=choice.metrics,
        curve=[CurvePoint(**row) for row in curve.rows()],
        n_examples=curve.n_examples,
        n_in_scope=curve.n_in_scope,
        n_out_of_scope=curve.n_out_of_scope,
        plot_path=outcome.plot_path,
        warning=outcome.warning,
    )


@router.get("/unanswered", response_model=UnansweredList)
def unanswered(
    service: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    since: Annotated[
        DateTimeQuery | None, Query(description="only asks at or after this time")
    ] = None,
) -> UnansweredList:
    """Questions below the service's threshold (not those only a caller's stricter
    `threshold` declined), most frequent first (for FAQ authors)."""
    service.ask_log.flush()
    if since is not None:
        try:
            since = since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ApiError(422, "validation_error", "since is out of range") from None
    rows = service.store.unanswered(limit=limit, since=since)
    return UnansweredList(items=[UnansweredPublic(**vars(row)) for row in rows])


@router.get("/feedback", response_model=list[FeedbackPublic])
def list_feedback(
    service: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after_id: Annotated[int | None, Query(ge=0, le=(1 << 62))] = None,
) -> list[FeedbackPublic]:
    """Stored feedback by id (page with `after_id`): tuning examples and alternate candidates."""
    rows = service.store.list_feedback(limit=limit, after_id=after_id)
    return [FeedbackPublic(**vars(row)) for row in rows]


@router.get("/feedback/score", response_model=FeedbackScore)
def feedback_score(service: ServiceDep) -> FeedbackScore:
    """The serving model and threshold scored on the stored feedback (as labelled questions):
    taken before and after a retrain, the console's before/after figure."""
    score = score_on_feedback(service)
    return FeedbackScore(n_examples=score.n_examples, n_left_out=score.n_left_out,
                         threshold=score.threshold, model_version=service.model_version,
                         metrics=score.metrics)


@router.get("/review", response_model=ReviewQueue)
def review(
    service: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    suggestions: Annotated[int, Query(ge=0, le=10)] = 3,
) -> ReviewQueue:
    """Questions waiting for an FAQ author: unanswered ones (most frequent first), then
    asks whose latest feedback named a better FAQ (newest first), each kind with up to half
    of `limit` when both have more; each item with at most `suggestions` FAQs (a named one
    first, then the nearest). A question leaves the queue once it is stored as a FAQ
    question or alternate."""
    items = review_queue(service, limit, suggestions)
    return ReviewQueue(items=[
        ReviewItem(**{**vars(item), "suggestions": [vars(s) for s in item.suggestions]})
        for item in items
    ])


def _status(service: Service, state: RetrainState) -> RetrainStatus:
    message = state.message
    missing = service.missing_model
    if missing and state.new_model_version and missing.startswith(state.new_model_version):
        # The record is the store's: the worker that ran it serves the new model, this one not.
        message += (f"; this worker still serves {service.model_version}: the new model's "
                    "checkpoint is not in its data directory (see /readyz)")
    return RetrainStatus(
        state=state.state,  # type: ignore[arg-type]
        progress=state.progress,
        message=message,
        started_at=state.started_at,
        finished_at=state.finished_at,
        model_version=service.model_version,
        new_model_version=state.new_model_version,
        error=state.error,
    )


@router.post("/retrain", response_model=RetrainStatus, status_code=status.HTTP_202_ACCEPTED)
def start_retrain(service: ServiceDep) -> RetrainStatus:
    """Retrain the encoder on the store's entries (each FAQ's phrasings are one group) in
    the background; the current model serves until the new one and its index swap in."""
    return _status(service, service.retrainer.start())


@router.get("/retrain", response_model=RetrainStatus)
def retrain_status(service: ServiceDep) -> RetrainStatus:
    """Progress of the current or last retrain on this store, whichever worker runs it."""
    return _status(service, service.retrainer.status)
