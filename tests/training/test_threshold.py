"""Threshold tuning: a hand-computed case, the tie rules, and a brute-force reference."""

import math
import random

import numpy as np
import pytest

from training.threshold import (
    METRIC_NAMES,
    candidate_thresholds,
    choose_threshold,
    moved_to,
    plot_threshold_curve,
    threshold_curve,
    tune_threshold,
)

# (score, predicted id, gold id): B and C tie at 0.8; D is in scope but matched the wrong FAQ.
HAND_CASE = [
    (0.9, 1, 1),  # A correct
    (0.8, 2, 2),  # B correct
    (0.8, 5, None),  # C out of scope
    (0.7, 1, 2),  # D wrong id
    (0.6, 4, 4),  # E correct
    (0.3, 2, None),  # F out of scope
]


def _split(case):
    return [c[0] for c in case], [c[1] for c in case], [c[2] for c in case]


def test_hand_computed_curve_and_choices() -> None:
    curve = threshold_curve(*_split(HAND_CASE))
    assert curve.thresholds == pytest.approx([0.299, 0.45, 0.65, 0.75, 0.85, 0.901])
    # Computed by hand: answered sets {all}, {A-E}, {A-D}, {A,B,C}, {A}, {}.
    expected = {
        "accuracy": [3 / 6, 4 / 6, 3 / 6, 3 / 6, 3 / 6, 2 / 6],
        "precision": [3 / 6, 3 / 5, 2 / 4, 2 / 3, 1.0, 1.0],
        "recall": [3 / 4, 3 / 4, 2 / 4, 2 / 4, 1 / 4, 0.0],
        "f1": [0.6, 2 / 3, 0.5, 4 / 7, 0.4, 0.0],
        "coverage": [1.0, 5 / 6, 4 / 6, 3 / 6, 1 / 6, 0.0],
        "wrong_answer_rate": [3 / 6, 2 / 6, 2 / 6, 1 / 6, 0.0, 0.0],
        "abstain_rate_out_of_scope": [0.0, 0.5, 0.5, 0.5, 1.0, 1.0],
        "answered_correctly_rate": [3 / 4, 3 / 4, 2 / 4, 2 / 4, 1 / 4, 0.0],
    }
    for name, values in expected.items():
        assert curve.metrics[name] == pytest.approx(values), name

    assert choose_threshold(curve, "accuracy").threshold == pytest.approx(0.45)
    assert choose_threshold(curve, "f1").threshold == pytest.approx(0.45)
    assert choose_threshold(curve, "precision", 0.95).threshold == pytest.approx(0.85)
    assert choose_threshold(curve, "precision", 0.65).threshold == pytest.approx(0.75)
    assert choose_threshold(curve, "precision", 0.6).threshold == pytest.approx(0.45)
    chosen = choose_threshold(curve, "accuracy")
    assert chosen.metrics["accuracy"] == pytest.approx(4 / 6)
    assert chosen.target_met


def test_a_choice_moved_to_a_higher_threshold_reports_the_rates_there() -> None:
    examples = _split(HAND_CASE)
    accuracy = tune_threshold(*examples, "accuracy")
    moved = moved_to(accuracy, 0.75, *examples)
    assert moved.threshold == 0.75 and moved.curve is accuracy.curve
    assert moved.metrics["accuracy"] == pytest.approx(3 / 6)
    assert moved.metrics["coverage"] == pytest.approx(3 / 6) and moved.target_met
    # Precision does not rise with the threshold: 3/5 at 0.45, 2/4 at 0.65, 2/3 at 0.75.
    precise = tune_threshold(*examples, "precision", 0.6)
    assert precise.threshold == pytest.approx(0.45) and precise.target_met
    assert not moved_to(precise, 0.65, *examples).target_met
    assert moved_to(precise, 0.75, *examples).target_met
    nothing = moved_to(precise, 0.95, *examples)  # answers nothing: no precision to meet
    assert nothing.metrics["coverage"] == 0.0 and not nothing.target_met


def test_accuracy_tie_prefers_fewer_wrong_answers() -> None:
    # Both 0.499 and 0.7 give accuracy 1/2, but 0.7 does not answer B with the wrong id.
    choice = tune_threshold([0.9, 0.5], [1, 3], [1, 2], "accuracy")
    assert choice.threshold == pytest.approx(0.7)
    assert choice.metrics["wrong_answer_rate"] == 0.0


def test_equal_metrics_prefer_the_lowest_threshold() -> None:
    # All in scope and correct: every threshold below the lowest score is perfect.
    choice = tune_threshold([0.9, 0.8], [1, 2], [1, 2], "accuracy")
    assert choice.threshold == pytest.approx(0.799)
    assert choice.metrics["coverage"] == 1.0


def test_unreachable_precision_answers_nothing_and_says_so() -> None:
    choice = tune_threshold([0.9, 0.8], [1, 2], [None, None], "precision", 0.95)
    assert not choice.target_met
    assert choice.threshold == pytest.approx(0.901)
    assert choice.metrics["coverage"] == 0.0


def test_ties_fall_on_one_side_of_every_candidate() -> None:
    scores = np.array([0.5, 0.5, 0.5, 0.7])
    for t in candidate_thresholds(scores):
        assert not np.any(np.isclose(scores, t))


def test_bad_inputs_raise_value_errors() -> None:
    with pytest.raises(ValueError):
        tune_threshold([], [], [])
    with pytest.raises(ValueError):
        tune_threshold([0.5], [1], [1, 2])
    with pytest.raises(ValueError):
        tune_threshold([math.nan], [1], [1])
    with pytest.raises(ValueError):
        tune_threshold([0.5], [1], [1], "precision")  # no target
    with pytest.raises(ValueError):
        tune_threshold([0.5], [1], [1], "precision", 1.5)
    with pytest.raises(ValueError):
        tune_threshold([0.5], [1], [1], "recall")  # type: ignore[arg-type]


def _reference_metrics(case, threshold: float) -> dict[str, float]:
    """Straight from the definitions, one example at a time."""
    n = len(case)
    n_in = sum(1 for _, _, g in case if g is not None)
    n_out = n - n_in
    answered = [(s, p, g) for s, p, g in case if s >= threshold]
    correct = sum(1 for _, p, g in answered if g is not None and p == g)
    abstained_out = sum(1 for s, _, g in case if g is None and s < threshold)
    precision = correct / len(answered) if answered else 1.0
    recall = correct / n_in if n_in else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "answered_correctly_rate": recall,
        "wrong_answer_rate": (len(answered) - correct) / n,
        "abstain_rate_out_of_scope": abstained_out / n_out if n_out else 1.0,
        "coverage": len(answered) / n,
        "accuracy": (correct + abstained_out) / n,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


@pytest.mark.parametrize("seed", range(5))
def test_matches_a_brute_force_reference(seed: int) -> None:
    rng = random.Random(seed)
    case = []
    for _ in range(rng.randint(1, 40)):
        gold = rng.choice([None, 1, 2, 3])
        predicted = rng.choice([None, 1, 2, 3]) if rng.random() < 0.5 else gold
        case.append((round(rng.uniform(-1, 1), 1), predicted, gold))  # rounding makes ties
    curve = threshold_curve(*_split(case))
    for position, threshold in enumerate(curve.thresholds):
        reference = _reference_metrics(case, float(threshold))
        got = curve.metrics_at(position)
        for name in METRIC_NAMES:
            assert got[name] == pytest.approx(reference[name]), (name, threshold)
    best = max(_reference_metrics(case, float(t))["accuracy"] for t in curve.thresholds)
    assert choose_threshold(curve, "accuracy").metrics["accuracy"] == pytest.approx(best)


def test_plot_writes_a_png(tmp_path) -> None:
    choice = tune_threshold(*_split(HAND_CASE))
    path = plot_threshold_curve(choice, tmp_path / "curve.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = choice.curve.rows()
    assert len(rows) == 6 and set(rows[0]) == {"threshold", *METRIC_NAMES}


def test_in_scope_share_weighs_accuracy_as_if_that_mix_were_asked() -> None:
    # Two right answers scoring 0.5 and 0.6; four no-answer questions scoring 0.55-0.9.
    scores = [0.5, 0.6, 0.55, 0.7, 0.8, 0.9]
    predicted = [0, 1, 0, 1, 0, 1]
    gold: list[int | None] = [0, 1, None, None, None, None]
    # The examples' own mix (4 of 6 need no answer): declining everything is best, 4/6.
    plain = tune_threshold(scores, predicted, gold)
    assert plain.threshold > 0.9 and plain.metrics["accuracy"] == pytest.approx(4 / 6)
    # As if 3 in 4 questions had an FAQ: answering both right ones (0.75) beats declining
    # everything (0.25) and answering from 0.575 (0.75 * 1/2 + 0.25 * 1/4).
    weighed = tune_threshold(scores, predicted, gold, in_scope_share=0.75)
    assert weighed.threshold < 0.5
    assert weighed.metrics["accuracy"] == pytest.approx(2 / 6)  # the metrics stay unweighted
    with pytest.raises(ValueError, match="in_scope_share"):
        tune_threshold(scores, predicted, gold, in_scope_share=1.0)
