"""Rates and cross-validated accuracy used in the demo report, against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from bench.demo_measure import cross_validated_accuracy
from training.threshold import rates_at


def test_rates_at_counts_each_outcome_once() -> None:
    # gold 1, 1, 2, None, None; predicted 1, 2, 2, 1, 2
    scores = np.array([0.9, 0.8, 0.3, 0.7, 0.2])
    predicted = np.array([1, 2, 2, 1, 2])
    gold = [1, 1, 2, None, None]
    rates = rates_at(0.5, scores, predicted, gold)
    # answered: rows 0 (right), 1 (wrong FAQ), 3 (should not answer) → 1 right, 2 wrong
    assert rates["answered_correctly_rate"] == pytest.approx(1 / 3)
    assert rates["wrong_answer_rate"] == pytest.approx(2 / 5)
    assert rates["abstain_rate_out_of_scope"] == pytest.approx(1 / 2)
    assert rates["accuracy"] == pytest.approx(2 / 5)  # row 0 and row 4


def test_cross_validated_accuracy_is_perfect_on_separable_scores_and_lower_otherwise() -> None:
    rng = np.random.default_rng(0)
    gold = [i % 5 if i % 3 else None for i in range(60)]
    predicted = np.array([g if g is not None else 0 for g in gold])
    separable = np.array([0.9 if g is not None else 0.1 for g in gold]) + rng.uniform(0, 0.05, 60)
    assert cross_validated_accuracy(separable, predicted, gold) == pytest.approx(1.0)
    noise = rng.uniform(0, 1, 60)
    assert cross_validated_accuracy(noise, predicted, gold) < 0.9
