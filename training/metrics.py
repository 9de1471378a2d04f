"""Evaluation metrics on unit vectors: paraphrase ranking, FAQ retrieval, AUROC."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from model.faq_scoring import BEST_PHRASING, FaqScoring

_CHUNK = 1024  # query rows per similarity block: bounds memory to CHUNK × N floats
# (first query row, end row, (rows, N) cosines) -> (rows, N) fused scores
Fuse = Callable[[int, int, np.ndarray], np.ndarray]


def ranking_topk(
    vectors: np.ndarray, labels: Sequence[object], ks: Sequence[int] = (1, 5, 10)
) -> dict[str, float]:
    """Protocol (a): each sentence ranks all OTHER sentences by cosine; top-n is a hit when a
    sentence of its own group is among the n nearest. Sentences alone in their group have no
    paraphrase to find and are skipped."""
    codes = np.unique(np.asarray(labels, dtype=object).astype(str), return_inverse=True)[1]
    group_sizes = np.bincount(codes)
    queries = np.flatnonzero(group_sizes[codes] >= 2)
    hits = {k: 0 for k in ks}
    for start in range(0, len(queries), _CHUNK):
        rows = queries[start : start + _CHUNK]
        sims = vectors[rows] @ vectors.T  # (q, N)
        sims[np.arange(len(rows)), rows] = -np.inf  # a sentence is not its own paraphrase
        same = codes[None, :] == codes[rows][:, None]  # (q, N)
        best_same = np.where(same, sims, -np.inf).max(1)  # (q,)
        # rank of the best paraphrase = how many other-group sentences score strictly higher
        rank = (np.where(same, -np.inf, sims) > best_same[:, None]).sum(1)
        for k in ks:
            hits[k] += int((rank < k).sum())
    total = max(len(queries), 1)
    return {f"top{k}": hits[k] / total for k in ks}


def group_scores(
    index_vectors: np.ndarray,
    index_labels: np.ndarray,
    query_vectors: np.ndarray,
    n_groups: int,
    fuse: Fuse | None = None,
    scoring: FaqScoring = BEST_PHRASING,
) -> np.ndarray:
    """(Q, G) score of each query with each group (FAQ dedup): its best indexed sentence's,
    or as `scoring` blends the best with the second best (model.faq_scoring).

    Scores are cosines, or `fuse(first, end, cosines)` of them: the (end - first, N) fused
    scores of queries first..end-1 (model.lexical), as the searcher scores them.
    """
    order = np.argsort(index_labels, kind="stable")
    sorted_labels = index_labels[order]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    present = sorted_labels[starts]
    sizes = np.diff(np.r_[starts, len(order)])
    scores = np.full((len(query_vectors), n_groups), -np.inf, dtype=np.float32)
    for start in range(0, len(query_vectors), _CHUNK):
        end = min(start + _CHUNK, len(query_vectors))
        sims = query_vectors[start:end] @ index_vectors.T  # (q, N)
        if fuse is not None:
            sims = fuse(start, end, sims)
        grouped = sims[:, order]
        best = np.maximum.reduceat(grouped, starts, axis=1)
        if scoring.votes:
            best = scoring.combine(best, _second_best(grouped, best, starts, sizes), sizes)
        scores[start:end, present] = best
    return scores


def _second_best(
    grouped: np.ndarray, best: np.ndarray, starts: np.ndarray, sizes: np.ndarray
) -> np.ndarray:
    """(q, G) each segment's second-highest value (-inf for one-sentence segments); the best
    again when two sentences tie for it."""
    at_best = grouped >= np.repeat(best, sizes, axis=1)
    rest = np.maximum.reduceat(np.where(at_best, -np.inf, grouped), starts, axis=1)
    tied = np.add.reduceat(at_best, starts, axis=1) >= 2
    return np.where(tied, best, rest)


def retrieval_topk(
    index_vectors: np.ndarray,
    index_labels: Sequence[object],
    query_vectors: np.ndarray,
    query_labels: Sequence[object],
    ks: Sequence[int] = (1, 5, 10),
) -> dict[str, float]:
    """Protocol (b): index some sentences per group, query with others; top-n is a hit when
    the query's group is among the n best-scoring groups (a group scores its best sentence)."""
    names, codes = np.unique(
        np.concatenate([np.asarray(index_labels, dtype=str), np.asarray(query_labels, dtype=str)]),
        return_inverse=True,
    )
    index_codes, query_codes = codes[: len(index_labels)], codes[len(index_labels) :]
    scores = group_scores(index_vectors, index_codes, query_vectors, len(names))
    return topk_from_scores(scores, query_codes, ks)


def topk_from_scores(
    scores: np.ndarray, true_codes: np.ndarray, ks: Sequence[int] = (1, 5, 10)
) -> dict[str, float]:
    """Hit rates from a (Q, G) score matrix: rank = groups scoring strictly above the truth."""
    true = scores[np.arange(len(true_codes)), true_codes]
    rank = (scores > true[:, None]).sum(1)
    total = max(len(true_codes), 1)
    return {f"top{k}": float((rank < k).sum()) / total for k in ks}


def auroc(scores: Sequence[float], positives: Sequence[bool]) -> float:
    """Area under the ROC curve (Mann–Whitney U with average ranks for ties)."""
    scores = np.asarray(scores, dtype=np.float64)
    positives = np.asarray(positives, dtype=bool)
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUROC needs at least one positive and one negative")
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores), dtype=np.float64)
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], len(scores)]
    for start, end in zip(starts, ends, strict=True):
        ranks[order[start:end]] = (start + end + 1) / 2.0  # average 1-based rank of the tie
    u = ranks[positives].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))
