"""Metrics against hand-computed values on toy rankings."""

import numpy as np
import pytest

from training.metrics import auroc, ranking_topk, retrieval_topk


def _unit(angles_deg):
    radians = np.deg2rad(np.asarray(angles_deg, dtype=np.float64))
    return np.stack([np.cos(radians), np.sin(radians)], axis=1).astype(np.float32)


def test_ranking_topk_hand_computed():
    # points on a circle at 0°, 10°, 25°, 90°, 100°, 200° with groups a a b b a c.
    vectors = _unit([0, 10, 25, 90, 100, 200])
    labels = ["a", "a", "b", "b", "a", "c"]
    # 0°: nearest 10° (a) → rank 0.      10°: nearest 0° (a) → rank 0.
    # 25°: order 10,0,90 ... b-partner 90° has 2 closer (10°,0°) → rank 2.
    # 90°: order 100(a),25(b) → rank 1.  100°: order 90(b),25(b),10(a) → rank 2.
    # 200° (c) has no paraphrase → skipped.  ranks [0,0,2,1,2] over 5 queries.
    result = ranking_topk(vectors, labels, ks=(1, 2, 3))
    assert result == {"top1": 2 / 5, "top2": 3 / 5, "top3": 5 / 5}


def test_retrieval_topk_hand_computed():
    index = _unit([0, 60, 120, 180])
    index_labels = ["x", "x", "y", "z"]
    queries = _unit([55, 130, 10, 170])
    query_labels = ["y", "y", "x", "z"]
    # 55°: x via 60° best, y (120°) second → rank 1.  130°: y best → 0.
    # 10°: x best → 0.   170°: z (180°) best → 0.
    result = retrieval_topk(index, index_labels, queries, query_labels, ks=(1, 2))
    assert result == {"top1": 3 / 4, "top2": 1.0}


def test_auroc_hand_computed_with_ties():
    scores = [0.9, 0.8, 0.8, 0.3, 0.1]
    positives = [True, True, False, False, True]
    # pairs (pos, neg): (0.9,0.8)=1 (0.9,0.3)=1 (0.8,0.8)=0.5 (0.8,0.3)=1 (0.1,*)=0,0 → 3.5/6
    assert auroc(scores, positives) == pytest.approx(3.5 / 6)
    assert auroc([1, 2], [False, True]) == 1.0
    with pytest.raises(ValueError):
        auroc([1, 2], [True, True])


def test_group_scores_blend_the_second_best_phrasing_as_the_scoring_says():
    from model.faq_scoring import FaqScoring
    from training.metrics import group_scores

    rng = np.random.default_rng(0)
    stored = rng.standard_normal((12, 6)).astype(np.float32)
    asked = rng.standard_normal((4, 6)).astype(np.float32)
    # Unit rows, as encoders give: a score near 1 would be a word-for-word match.
    stored /= np.linalg.norm(stored, axis=1, keepdims=True)
    asked /= np.linalg.norm(asked, axis=1, keepdims=True)
    owners = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 4, 4])  # 3, 2, 4, 1, 2 phrasings
    stored[11] = stored[10]  # group 4: two tied phrasings
    scoring = FaqScoring(second_weight=0.4, min_phrasings=2)
    got = group_scores(stored, owners, asked, 6, None, scoring)
    cosines = asked @ stored.T
    for q in range(len(asked)):
        for group in range(5):
            ranked = np.sort(cosines[q, owners == group])[::-1]
            expected = ranked[0] if len(ranked) < 2 else 0.6 * ranked[0] + 0.4 * ranked[1]
            assert got[q, group] == pytest.approx(expected, abs=1e-5)
        assert got[q, 5] == -np.inf  # a group with nothing indexed
    plain = group_scores(stored, owners, asked, 6)
    np.testing.assert_allclose(plain[:, 3], got[:, 3])  # one phrasing: its own score
    assert (plain[:, :3] > got[:, :3]).any()  # the vote lowered groups with a weaker second
