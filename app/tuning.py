"""Threshold tuning against the live index: labelled questions → a recommended threshold.

The examples are scored through the searcher (the same index and decision as /ask), so the
recommendation holds for what the service actually answers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.feedback_examples import feedback_examples
from app.last_tuning import save_last_tuning
from app.service import Service
from app.tuning_errors import NothingToTune, UnknownFaqIds
from training.threshold import (
    Objective,
    ThresholdChoice,
    plot_threshold_curve,
    rates_at,
    storable,
    tune_threshold,
)

logger = logging.getLogger("samesay.app")
# Threshold plots kept in <data_dir>/plots (the latest; older ones are deleted).
KEPT_PLOTS = 20

# Used when objective=precision comes without a target: "answer when 95 % sure".
DEFAULT_PRECISION_TARGET = 0.95
# Fewer questions with feedback than this, or none of one kind (to answer, not to answer),
# put the best threshold where chance puts it (QA: 3 questions recommended 0.869, which
# declines every question): such a tuning comes with a warning and is not applied.
MIN_FEEDBACK_EXAMPLES = 10


@dataclass(frozen=True)
class TuneOutcome:
    threshold: float  # clamped to the store's [-1, 1]
    choice: ThresholdChoice
    applied: bool
    plot_path: str | None
    warning: str | None = None  # why the recommendation is not to be trusted


def tune_from_examples(
    service: Service,
    examples: Sequence[tuple[str, int | None]],
    objective: Objective,
    target: float | None,
    apply: bool,
    source: str = "labelled questions",
    warning: str | None = None,
) -> TuneOutcome:
    """(question, FAQ id it should get or None) pairs → the threshold for `objective`; the
    curve is kept as the last tuning (app.last_tuning) for the console to draw."""
    wanted = {faq_id for _, faq_id in examples if faq_id is not None}
    known = service.store.exists(wanted) if wanted else set()
    unknown = [
        {"field": f"examples[{i}].faq_id", "message": f"no FAQ entry with id {faq_id}",
         "type": "unknown_faq_id"}
        for i, (_, faq_id) in enumerate(examples)
        if faq_id is not None and faq_id not in known
    ]
    if unknown:
        raise UnknownFaqIds(unknown)
    if service.searcher.count == 0:
        raise NothingToTune("the store has no FAQ entries to tune against")
    scores, predicted = service.searcher.best_matches([question for question, _ in examples])
    if objective == "precision" and target is None:
        target = DEFAULT_PRECISION_TARGET
    choice = tune_threshold(scores, predicted, [faq_id for _, faq_id in examples], objective,
                            target)
    threshold = storable(choice.threshold)
    if apply:
        service.set_threshold(threshold)
    save_last_tuning(service.store, choice, threshold, source)
    return TuneOutcome(threshold, choice, apply, _plot(service, choice), warning)


def tune_from_feedback(
    service: Service, objective: Objective, target: float | None, apply: bool
) -> TuneOutcome:
    """The same tuning, on the labelled questions stored feedback gives."""
    examples, left_out = _unstored(service, feedback_examples(service.store))
    if not examples:
        raise NothingToTune(
            "no stored feedback can be used as a tuning example yet: mark answers right or "
            "wrong with POST /feedback (a wrong one naming the right FAQ, or one that should "
            "not have been answered)"
            + (f"; {left_out} with feedback are left out: they are stored phrasings now"
               if left_out else "")
        )
    warning = too_few_warning(examples)
    if warning and apply:
        raise NothingToTune(f"not applied: {warning}")
    source = "questions with feedback"
    if left_out:
        source += f" ({left_out} left out: now stored phrasings)"
    return tune_from_examples(service, examples, objective, target, apply, source, warning)


def too_few_warning(examples: Sequence[tuple[str, int | None]]) -> str | None:
    """Why a tuning on these feedback examples is noise, or None when there are enough."""
    to_answer = sum(faq_id is not None for _, faq_id in examples)
    not_to_answer = len(examples) - to_answer
    if len(examples) >= MIN_FEEDBACK_EXAMPLES and to_answer and not_to_answer:
        return None
    return (
        f"only {len(examples)} questions with feedback ({to_answer} to answer, "
        f"{not_to_answer} not to answer): the best threshold falls where chance puts it; "
        f"gather at least {MIN_FEEDBACK_EXAMPLES}, of both kinds, before applying one"
    )


def _unstored(
    service: Service, examples: list[tuple[str, int | None]]
) -> tuple[list[tuple[str, int | None]], int]:
    """The feedback examples whose question is not a stored phrasing, and how many were.
    The review loop adds a reviewed question to its FAQ as an alternate; it then scores 1
    whatever the model, and tuned on it the threshold climbs (QA: 0.357 → 0.497, and
    held-out accuracy 0.788 → 0.608) while the before/after figure reads 1.0."""
    kept = [example for example in examples if not service.searcher.is_stored_phrasing(example[0])]
    return kept, len(examples) - len(kept)


@dataclass(frozen=True)
class FeedbackScore:
    n_examples: int
    threshold: float
    metrics: dict[str, float]
    n_left_out: int = 0  # feedback questions that are now stored phrasings (_unstored)


def score_on_feedback(service: Service) -> FeedbackScore:
    """How the serving model and threshold do on the stored feedback now (the before/after
    figure of a retrain is two of these)."""
    threshold = service.threshold.value
    if service.searcher.count == 0:
        return FeedbackScore(len(feedback_examples(service.store)), threshold, {})
    examples, left_out = _unstored(service, feedback_examples(service.store))
    if not examples:
        return FeedbackScore(0, threshold, {}, left_out)
    scores, predicted = service.searcher.best_matches([question for question, _ in examples])
    metrics = rates_at(threshold, scores, predicted, [faq_id for _, faq_id in examples])
    return FeedbackScore(len(examples), threshold, metrics, left_out)


def _plot(service: Service, choice: ThresholdChoice) -> str | None:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = service.settings.data_dir / "plots" / f"threshold-{stamp}.png"
    try:
        written = str(plot_threshold_curve(choice, path))
        _keep_latest_plots(path.parent)
        return written
    except Exception:  # a plot is a convenience: never fail the tuning because of it
        logger.warning("could not write the threshold plot to %s", path, exc_info=True)
        return None


def _keep_latest_plots(folder: Path) -> None:
    """Every tuning writes a plot (~40 KB), a dry run too: keep the latest KEPT_PLOTS, so
    that a service tuned from a script for months does not fill its disk."""
    plots = sorted(folder.glob("threshold-*.png"))  # the UTC stamps sort in time order
    for old in plots[:-KEPT_PLOTS]:
        old.unlink(missing_ok=True)
