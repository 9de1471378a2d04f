"""Topic-aware distillation batches (TAS: Hofstätter et al. 2021, "Efficiently Teaching an
Effective Dense Retriever with Balanced Topic Aware Sampling").

The relational term of the distillation loss regresses the student's cosine matrix of a
batch onto the teacher's. In a batch of random requests nearly every pair is unrelated, so
it mostly teaches coarse contrasts ("weather" vs "restaurants"), while an FAQ set needs the
fine ones ("cancel my policy" vs "change my policy"). Here part of each batch comes from one
topic: a cluster of the teacher's own vectors (spherical k-means), so those pairs are near
neighbours; the rest stays random, which keeps the coarse geometry.
"""

from __future__ import annotations

import numpy as np

from training.teacher_encoders import unit_rows


def topic_clusters(vectors: np.ndarray, rows_per_cluster: int, seed: int) -> np.ndarray:
    """(N,) cluster label of each row: spherical k-means over the (N, d) teacher vectors,
    about `rows_per_cluster` rows a cluster."""
    import faiss  # the index package's dependency; imported here, where it is needed

    count = len(vectors)
    clusters = max(1, count // max(rows_per_cluster, 1))
    if clusters == 1:
        return np.zeros(count, dtype=np.int64)
    # A new array: normalising in place would rewrite the caller's float32 teacher vectors.
    data = np.ascontiguousarray(unit_rows(vectors))
    # 64 points a centroid are enough to place it (faiss subsamples the rest): minutes, not
    # tens of minutes, for 300k rows on 2 cores.
    kmeans = faiss.Kmeans(
        data.shape[1],
        clusters,
        niter=10,
        spherical=True,
        seed=seed,
        max_points_per_centroid=64,
        verbose=False,
    )
    kmeans.train(data)
    _, labels = kmeans.index.search(data, 1)
    return labels[:, 0].astype(np.int64)


def topic_batches(
    clusters: np.ndarray, batch_size: int, share: float, rng: np.random.Generator
) -> list[np.ndarray]:
    """One epoch of row batches (every row once): `share` of each batch is a run of rows of
    one topic (clusters in a random order, rows shuffled inside), the rest random rows."""
    if not 0.0 < share <= 1.0:
        raise ValueError(f"share must be in (0, 1], got {share!r}")
    order = rng.permutation(len(clusters))
    topical_size = max(1, round(share * batch_size))
    n_batches = -(-len(clusters) // batch_size)
    n_topical = min(len(order), topical_size * n_batches)
    topical, mixed = order[:n_topical], order[n_topical:]
    # Group the topical rows by cluster, clusters in a random order (stable sort keeps the
    # rows' random order inside each cluster).
    rank = rng.permutation(int(clusters.max()) + 1)
    topical = topical[np.argsort(rank[clusters[topical]], kind="stable")]
    # ceil(N / batch_size) batches hold every row: the random parts take what the topical
    # parts leave.
    random_size = batch_size - topical_size
    batches = []
    for b in range(n_batches):
        part = topical[b * topical_size : (b + 1) * topical_size]
        rest = mixed[b * random_size : (b + 1) * random_size]
        batch = np.concatenate([part, rest])
        if len(batch):
            batches.append(batch)
    return batches
