"""Topic-aware distillation batches: real faiss k-means, every row once an epoch."""

from __future__ import annotations

import numpy as np
import pytest

from training.topic_batches import topic_batches, topic_clusters


def test_clusters_follow_the_teachers_topics() -> None:
    rng = np.random.default_rng(0)
    centres = np.eye(16, dtype=np.float32)[:3] * 10
    truth = rng.integers(0, 3, size=600)
    vectors = centres[truth] + rng.normal(scale=0.1, size=(600, 16)).astype(np.float32)
    before = vectors.copy()
    labels = topic_clusters(vectors, rows_per_cluster=200, seed=0)
    np.testing.assert_array_equal(vectors, before)  # the teacher's vectors are not rewritten
    assert len(np.unique(labels)) == 3
    for topic in range(3):  # one cluster per topic, and the other way round
        assert len(np.unique(labels[truth == topic])) == 1


def test_too_few_rows_make_one_cluster() -> None:
    vectors = np.random.default_rng(0).normal(size=(5, 8)).astype(np.float32)
    assert topic_clusters(vectors, rows_per_cluster=200, seed=0).tolist() == [0] * 5


@pytest.mark.parametrize("share", [0.25, 0.5, 1.0])
def test_every_row_once_and_the_topical_part_from_one_cluster_at_a_time(share: float) -> None:
    clusters = np.repeat(np.arange(10), 50)  # 10 topics of 50 rows
    batches = topic_batches(clusters, 16, share, np.random.default_rng(1))
    rows = np.concatenate(batches)
    assert sorted(rows.tolist()) == list(range(500))
    assert len(batches) == -(-500 // 16)
    topical = round(share * 16)
    # A run of one topic's rows: at most two topics where one cluster ends and the next starts.
    assert all(len(np.unique(clusters[b[:topical]])) <= 2 for b in batches)
    mostly_one = np.mean([len(np.unique(clusters[b[:topical]])) == 1 for b in batches])
    assert mostly_one > 0.6
    if share < 1.0:  # the random part mixes topics
        assert np.mean([len(np.unique(clusters[b[topical:]])) > 1 for b in batches[:-2]]) > 0.9


def test_topic_order_changes_between_epochs() -> None:
    clusters = np.repeat(np.arange(10), 50)
    rng = np.random.default_rng(2)
    first, second = (topic_batches(clusters, 16, 1.0, rng) for _ in range(2))
    assert [clusters[b[0]] for b in first] != [clusters[b[0]] for b in second]


@pytest.mark.parametrize("share", [0.0, -0.5, 1.5])
def test_share_outside_zero_to_one_is_refused(share: float) -> None:
    with pytest.raises(ValueError, match="share"):
        topic_batches(np.zeros(10, dtype=np.int64), 4, share, np.random.default_rng(0))
