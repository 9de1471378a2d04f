"""Answer-threshold tuning: the metric curve over every candidate threshold, and the choice.

Each labelled example has the best cosine score the searcher returned, the FAQ id it
predicted (None when nothing matched, e.g. an empty store) and the gold FAQ id (None = the
question should not be answered). A question is *answered* when `score >= threshold`.

Metrics at a threshold (n = all examples, n_in = gold is an id, n_out = gold is None):
- answered_correctly_rate: in-scope examples answered with the gold id / n_in  (= recall)
- wrong_answer_rate: examples answered with a wrong id, or answered though out-of-scope / n
- abstain_rate_out_of_scope: out-of-scope examples not answered / n_out
- coverage: answered / n
- accuracy (the CLINC150 protocol): (in-scope answered with the gold id + out-of-scope not
  answered) / n; an in-scope question below the threshold counts as wrong
- precision: answered correctly / answered (1.0 when nothing is answered: no wrong answer)
- recall: answered correctly / n_in;  f1: harmonic mean of precision and recall

Candidate thresholds: with the distinct scores sorted s_1 < ... < s_m, the candidates are
s_1 - edge_margin (answer everything), the midpoints (s_i + s_{i+1}) / 2, and s_m + edge_margin
(answer nothing). Midpoints sit as far as possible from every observed score, so float
round-off between tuning-time and serving-time encodings cannot flip a decision, and equal
scores (ties) always fall on the same side of every candidate.

Choice (tie rule): `accuracy` and `f1` take the candidate with the best objective; among
candidates within 1e-12 of the best, the one with the lowest wrong-answer rate, then the
lowest threshold (the most coverage). `precision` takes the lowest threshold that answers
something and reaches precision >= target; when none does, the answer-nothing threshold,
with `target_met=False`. With `in_scope_share` p, `accuracy` becomes
p * answered_correctly_rate + (1 - p) * abstain_rate_out_of_scope: the accuracy a mix of p
answerable questions would get (training.rehearsal, whose own mix is an accident of how
many phrasings each FAQ has).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from model.lexical import LexicalMatrix
from training.metrics import Fuse, group_scores

if TYPE_CHECKING:  # type names only: tuning maths needs neither torch nor a database
    from model.sentence_encoder import SentenceEncoder
    from store.entries import FaqEntry

Objective = Literal["accuracy", "f1", "precision"]
OBJECTIVES: tuple[Objective, ...] = ("accuracy", "f1", "precision")

# Names of the per-threshold metrics, in the order they appear in curve rows.
METRIC_NAMES: tuple[str, ...] = (
    "answered_correctly_rate",
    "wrong_answer_rate",
    "abstain_rate_out_of_scope",
    "coverage",
    "accuracy",
    "precision",
    "recall",
    "f1",
)

# Objective values closer than this are ties (sums of 1/n fractions differ by round-off).
_TIE_EPS = 1e-12


@dataclass(frozen=True)
class ThresholdCurve:
    """Metrics at every candidate threshold; all arrays are float64 of shape (c,), ascending."""

    thresholds: np.ndarray
    metrics: dict[str, np.ndarray]
    n_examples: int
    n_in_scope: int
    n_out_of_scope: int

    def metrics_at(self, position: int) -> dict[str, float]:
        return {name: float(values[position]) for name, values in self.metrics.items()}

    def rows(self) -> list[dict[str, float]]:
        """One dict per candidate: {'threshold': t, <metric>: value, ...} (for JSON/plots)."""
        return [
            {"threshold": float(t), **self.metrics_at(i)} for i, t in enumerate(self.thresholds)
        ]


@dataclass(frozen=True)
class ThresholdChoice:
    threshold: float
    objective: Objective
    target: float | None
    # False only for `precision` when no threshold that answers anything reaches the target.
    target_met: bool
    metrics: dict[str, float]
    curve: ThresholdCurve


def _validated(
    scores: Sequence[float],
    predicted: Sequence[int | None],
    gold: Sequence[int | None],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not (len(scores) == len(predicted) == len(gold)):
        raise ValueError(
            f"scores, predicted and gold must have the same length, got "
            f"{len(scores)}, {len(predicted)}, {len(gold)}"
        )
    if len(scores) == 0:
        raise ValueError("need at least one labelled example to tune a threshold")
    score_array = np.asarray(scores, dtype=np.float64)  # (n,)
    if not np.all(np.isfinite(score_array)):
        raise ValueError("scores must be finite numbers")
    in_scope = np.array([g is not None for g in gold], dtype=bool)  # (n,)
    correct = np.array(
        [
            g is not None and p is not None and int(p) == int(g)
            for p, g in zip(predicted, gold, strict=True)
        ],
        dtype=bool,
    )  # (n,)
    return score_array, in_scope, correct


def candidate_thresholds(scores: np.ndarray, edge_margin: float = 1e-3) -> np.ndarray:
    """Ascending candidates: below the lowest score, midpoints, above the highest score."""
    distinct = np.unique(scores)  # sorted ascending
    midpoints = (distinct[:-1] + distinct[1:]) / 2.0
    return np.concatenate(([distinct[0] - edge_margin], midpoints, [distinct[-1] + edge_margin]))


def threshold_curve(
    scores: Sequence[float],
    predicted: Sequence[int | None],
    gold: Sequence[int | None],
    edge_margin: float = 1e-3,
    thresholds: np.ndarray | None = None,
) -> ThresholdCurve:
    """Metrics at every candidate threshold, or at the ascending `thresholds` given."""
    score_array, in_scope, correct = _validated(scores, predicted, gold)
    n = score_array.size
    n_in = int(in_scope.sum())
    n_out = n - n_in
    if thresholds is None:
        thresholds = candidate_thresholds(score_array, edge_margin)  # (c,)
    thresholds = np.asarray(thresholds, dtype=np.float64)

    order = np.argsort(score_array, kind="stable")
    sorted_scores = score_array[order]

    # suffix[k] = how many of the examples sorted at positions >= k have the property, so the
    # examples answered at threshold t are those from searchsorted(sorted_scores, t) on.
    def suffix(flags: np.ndarray) -> np.ndarray:
        counts = np.concatenate((np.cumsum(flags[order][::-1])[::-1], [0]))
        return counts.astype(np.float64)  # (n + 1,)

    first_answered = np.searchsorted(sorted_scores, thresholds, side="left")  # (c,)
    answered = (n - first_answered).astype(np.float64)
    answered_correct = suffix(correct)[first_answered]
    answered_out = suffix(~in_scope)[first_answered]
    answered_wrong = answered - answered_correct  # wrong id, or answered though out of scope
    abstained_out = n_out - answered_out

    with np.errstate(divide="ignore", invalid="ignore"):
        recall = answered_correct / n_in if n_in else np.zeros_like(answered)
        precision = np.where(answered > 0, answered_correct / np.maximum(answered, 1), 1.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    metrics = {
        "answered_correctly_rate": recall,
        "wrong_answer_rate": answered_wrong / n,
        "abstain_rate_out_of_scope": (abstained_out / n_out if n_out else np.ones_like(answered)),
        "coverage": answered / n,
        "accuracy": (answered_correct + abstained_out) / n,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }
    return ThresholdCurve(thresholds, metrics, n, n_in, n_out)


def choose_threshold(
    curve: ThresholdCurve,
    objective: Objective = "accuracy",
    target: float | None = None,
    in_scope_share: float | None = None,
) -> ThresholdChoice:
    """The threshold for `objective` (module docstring). `in_scope_share` reweights
    `accuracy` as if that share of questions had an FAQ, whatever the examples' own mix."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    if in_scope_share is not None and not 0.0 < in_scope_share < 1.0:
        raise ValueError(f"in_scope_share must be in (0, 1), got {in_scope_share!r}")
    if objective == "precision":
        if target is None:
            raise ValueError("objective 'precision' needs a target, e.g. 0.95")
        if not (math.isfinite(target) and 0.0 < target <= 1.0):
            raise ValueError(f"precision target must be in (0, 1], got {target!r}")
        reaches = _reaches(curve.metrics, target)
        met = bool(reaches.any())
        # Thresholds are ascending: the first that reaches the target answers the most.
        position = int(np.argmax(reaches)) if met else len(curve.thresholds) - 1
    else:
        values = curve.metrics[objective]
        if objective == "accuracy" and in_scope_share is not None:
            values = (
                in_scope_share * curve.metrics["answered_correctly_rate"]
                + (1.0 - in_scope_share) * curve.metrics["abstain_rate_out_of_scope"]
            )
        tied = values >= values.max() - _TIE_EPS
        wrong = np.where(tied, curve.metrics["wrong_answer_rate"], np.inf)
        # argmin returns the first (lowest-threshold) of equal minima.
        position = int(np.argmin(wrong))
        met = True
    return ThresholdChoice(
        threshold=float(curve.thresholds[position]),
        objective=objective,
        target=target if objective == "precision" else None,
        target_met=met,
        metrics=curve.metrics_at(position),
        curve=curve,
    )


def tune_threshold(
    scores: Sequence[float],
    predicted: Sequence[int | None],
    gold: Sequence[int | None],
    objective: Objective = "accuracy",
    target: float | None = None,
    in_scope_share: float | None = None,
) -> ThresholdChoice:
    """The curve over all candidate thresholds and the threshold chosen for `objective`."""
    curve = threshold_curve(scores, predicted, gold)
    return choose_threshold(curve, objective, target, in_scope_share)


def storable(threshold: float) -> float:
    """A chosen threshold as the store keeps it, in [-1, 1]: the extreme candidates (answer
    everything, answer nothing) may lie just outside."""
    return min(max(threshold, -1.0), 1.0)


def rates_at(
    threshold: float,
    scores: Sequence[float],
    predicted: Sequence[int | None],
    gold: Sequence[int | None],
) -> dict[str, float]:
    """Every curve metric at one threshold (e.g. a threshold tuned on other examples)."""
    curve = threshold_curve(scores, predicted, gold, thresholds=np.array([threshold]))
    return curve.metrics_at(0)


def moved_to(
    choice: ThresholdChoice,
    threshold: float,
    scores: Sequence[float],
    predicted: Sequence[int | None],
    gold: Sequence[int | None],
) -> ThresholdChoice:
    """`choice` at another threshold (a floor under it, say), on the examples it was tuned
    on: the metrics there and, for `precision`, whether something answered still meets the
    target (precision need not rise with the threshold). The curve stays as it was."""
    metrics = rates_at(threshold, scores, predicted, gold)
    met = choice.target_met
    if choice.objective == "precision" and choice.target is not None:
        met = bool(_reaches(metrics, choice.target))
    return replace(choice, threshold=threshold, metrics=metrics, target_met=met)


def _reaches(metrics: Mapping[str, np.ndarray | float], target: float) -> np.ndarray | np.bool_:
    """Where the precision target is met by answering something (arrays: per candidate)."""
    return (np.asarray(metrics["precision"]) >= target - _TIE_EPS) & (
        np.asarray(metrics["coverage"]) > 0
    )


def best_matches(
    encoder: SentenceEncoder, entries: Sequence[FaqEntry], questions: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Best score and its FAQ id per question, over every stored phrasing: the examples'
    scores and predictions for tuning (`best_group_matches` over the entries' phrasings).
    (The admin tune route asks the live searcher instead: the index the service answers
    from.)"""
    ids = np.array([entry.id for entry in entries], dtype=np.int64)
    scores, best = best_group_matches(encoder, [entry.phrasings for entry in entries], questions)
    return scores, ids[best]


def best_group_matches(
    encoder: SentenceEncoder, groups: Sequence[Sequence[str]], questions: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Best score and the index of its group per question, over every phrasing.

    The same decision the searcher makes (exact inner product over unit vectors, fused with
    the TF-IDF cosine when the model has a lexical half, each FAQ scored from its phrasings
    as the model says: model.faq_scoring), without building an index; the per-group scores
    come from `training.metrics.group_scores`, which the evaluation protocols use too. (The
    searcher sees only the phrasings it fetched; with a vote its scores can differ slightly
    on large stores: model.faq_scoring.)
    """
    phrasings = [text for group in groups for text in group]
    owners = np.array([i for i, group in enumerate(groups) for _ in group])
    stored = encoder.encode(phrasings)  # (p, dim), unit rows
    asked = encoder.encode(list(questions))  # (q, dim), unit rows
    fuse = _lexical_fuse(encoder, phrasings, list(questions))
    per_group = group_scores(stored, owners, asked, len(groups), fuse, encoder.faq_scoring)
    return per_group.max(axis=1).astype(np.float64), per_group.argmax(axis=1)


def _lexical_fuse(
    encoder: SentenceEncoder, phrasings: list[str], questions: list[str]
) -> Fuse | None:
    if encoder.lexical is None:
        return None
    lexical = LexicalMatrix(encoder.lexical, phrasings)
    return lambda first, end, cosines: lexical.fused(questions[first:end], cosines)


def plot_threshold_curve(choice: ThresholdChoice, path: Path) -> Path:
    """Write a PNG of the main metrics against the threshold, marking the chosen one."""
    import matplotlib

    matplotlib.use("Agg")  # headless: servers and CI have no display
    import matplotlib.pyplot as plt

    curve = choice.curve
    figure, axes = plt.subplots(figsize=(8, 5))
    for name in (
        "accuracy",
        "precision",
        "recall",
        "coverage",
        "wrong_answer_rate",
        "abstain_rate_out_of_scope",
    ):
        axes.plot(curve.thresholds, curve.metrics[name], label=name, drawstyle="steps-post")
    axes.axvline(
        choice.threshold,
        color="black",
        linestyle="--",
        label=f"chosen ({choice.objective}) = {choice.threshold:.4f}",
    )
    axes.set_xlabel("threshold (answer when best cosine >= threshold)")
    axes.set_ylabel("rate")
    axes.set_ylim(-0.02, 1.02)
    axes.set_title(
        f"Threshold curve over {curve.n_examples} examples "
        f"({curve.n_in_scope} in scope, {curve.n_out_of_scope} out of scope)"
    )
    axes.legend(loc="best", fontsize="small")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)
    return path
