"""Evaluation protocols, model-agnostic: anything that scores queries against documents.

- `ranking_protocol` (a): each held-out sentence ranks all other held-out sentences.
- `retrieval_protocol` (b): index some sentences per group, query with the others; a group
  scores its best sentence (the service's "best phrasing per FAQ").
- `answer_or_abstain` (CLINC150): threshold chosen for accuracy on val + oos_val, reported on
  test + oos_test (in-scope accuracy, out-of-scope recall/precision, AUROC).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from model.lexical import LexicalMatrix
from model.sentence_encoder import SentenceEncoder
from training.bm25 import BM25
from training.metrics import auroc, topk_from_scores
from training.threshold import tune_threshold

# documents → (queries → (Q, N) similarity with those documents)
SimilarityFactory = Callable[[Sequence[str]], Callable[[Sequence[str]], np.ndarray]]
KS = (1, 5, 10)
_CHUNK = 512


def encoder_similarity(encoder: SentenceEncoder) -> SimilarityFactory:
    """Cosine, or the fused score when the model has a lexical half: what the searcher ranks by."""

    def fit(documents: Sequence[str]) -> Callable[[Sequence[str]], np.ndarray]:
        doc_vectors = encoder.encode(documents)  # (N, dim)
        if encoder.lexical is None:
            return lambda queries: encoder.encode(queries) @ doc_vectors.T
        lexical = LexicalMatrix(encoder.lexical, documents)
        return lambda queries: lexical.fused(queries, encoder.encode(queries) @ doc_vectors.T)

    return fit


def class_mixed_similarity(
    encoder: SentenceEncoder,
    class_weights: np.ndarray,
    text_class: dict[str, int],
    class_weight_share: float,
) -> SimilarityFactory:
    """Closed-set scoring with the trained classifier: a document's score is
    (1 − w) · cos(query, document) + w · cos(query, its group's class vector), so a group
    scores (1 − w) · best phrasing + w · class vector (w = `class_weight_share`).

    `class_weights` (C, dim) unit rows; `text_class` maps every indexed sentence to its row
    (a sentence filed under two groups takes the first one's row)."""

    def fit(documents: Sequence[str]) -> Callable[[Sequence[str]], np.ndarray]:
        doc_vectors = encoder.encode(documents)  # (N, dim)
        doc_classes = np.array([text_class[d] for d in documents], dtype=np.int64)  # (N,)

        def similarity(queries: Sequence[str]) -> np.ndarray:
            query_vectors = encoder.encode(queries)  # (Q, dim)
            by_class = (query_vectors @ class_weights.T)[:, doc_classes]  # (Q, N)
            by_text = query_vectors @ doc_vectors.T  # (Q, N)
            return (1 - class_weight_share) * by_text + class_weight_share * by_class

        return similarity

    return fit


def bm25_similarity() -> SimilarityFactory:
    def fit(documents: Sequence[str]) -> Callable[[Sequence[str]], np.ndarray]:
        return BM25(documents).scores

    return fit


def _flatten(groups: dict[str, list[str]], names: dict[str, int]) -> tuple[list[str], np.ndarray]:
    texts = [t for g, ts in groups.items() for t in ts]
    codes = np.array([names[g] for g, ts in groups.items() for _ in ts], dtype=np.int64)
    return texts, codes


def _group_scores(
    similarity: Callable[[Sequence[str]], np.ndarray],
    queries: Sequence[str],
    doc_codes: np.ndarray,
    n_groups: int,
) -> np.ndarray:
    """(Q, G) best score of each query over each group's documents."""
    order = np.argsort(doc_codes, kind="stable")
    sorted_codes = doc_codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    scores = np.full((len(queries), n_groups), -np.inf, dtype=np.float32)
    for start in range(0, len(queries), _CHUNK):
        sims = similarity(queries[start : start + _CHUNK])[:, order]  # (q, N)
        scores[start : start + _CHUNK, sorted_codes[starts]] = np.maximum.reduceat(
            sims, starts, axis=1
        )
    return scores


def retrieval_protocol(
    factory: SimilarityFactory,
    index: dict[str, list[str]],
    queries: dict[str, list[str]],
    ks: Sequence[int] = KS,
) -> dict[str, float]:
    """Protocol (b): top-k by group for queries against the indexed groups."""
    names = {g: i for i, g in enumerate(sorted(set(index) | set(queries)))}
    doc_texts, doc_codes = _flatten(index, names)
    query_texts, query_codes = _flatten(queries, names)
    scores = _group_scores(factory(doc_texts), query_texts, doc_codes, len(names))
    return topk_from_scores(scores, query_codes, ks)


def ranking_protocol(
    factory: SimilarityFactory, groups: dict[str, list[str]], ks: Sequence[int] = KS
) -> dict[str, float]:
    """Protocol (a): each sentence (with a paraphrase) ranks all other sentences."""
    names = {g: i for i, g in enumerate(sorted(groups))}
    texts, codes = _flatten(groups, names)
    similarity = factory(texts)
    queries = np.flatnonzero(np.bincount(codes)[codes] >= 2)
    hits = dict.fromkeys(ks, 0)
    for start in range(0, len(queries), _CHUNK):
        rows = queries[start : start + _CHUNK]
        sims = similarity([texts[i] for i in rows]).astype(np.float64)  # (q, N)
        sims[np.arange(len(rows)), rows] = -np.inf  # not its own paraphrase
        same = codes[None, :] == codes[rows][:, None]
        best_same = np.where(same, sims, -np.inf).max(1)
        rank = (np.where(same, -np.inf, sims) > best_same[:, None]).sum(1)
        for k in ks:
            hits[k] += int((rank < k).sum())
    total = max(len(queries), 1)
    return {f"top{k}": hits[k] / total for k in ks}


def _answer_predictor(factory: SimilarityFactory, index: dict[str, list[str]]):
    """(groups, oos) → (best score, predicted group code, gold code or None) per query."""
    names = {g: i for i, g in enumerate(sorted(index))}
    doc_texts, doc_codes = _flatten(index, names)
    similarity = factory(doc_texts)

    def predict(groups: dict[str, list[str]], oos: Sequence[str]):
        texts, gold = _flatten({g: ts for g, ts in groups.items() if g in names}, names)
        scores = _group_scores(similarity, [*texts, *oos], doc_codes, len(names))
        gold_ids: list[int | None] = [int(g) for g in gold] + [None] * len(oos)
        return scores.max(1), scores.argmax(1), gold_ids

    return predict


def val_answer_accuracy(
    factory: SimilarityFactory,
    index: dict[str, list[str]],
    val: dict[str, list[str]],
    val_oos: Sequence[str],
) -> float:
    """Answer-or-abstain accuracy on val + oos_val at the threshold tuned there (the
    objective `answer_or_abstain` tunes its threshold for); for choosing scoring options."""
    scores, predicted, gold = _answer_predictor(factory, index)(val, val_oos)
    choice = tune_threshold(scores.tolist(), predicted.tolist(), gold, "accuracy")
    return float(choice.metrics["accuracy"])


def answer_or_abstain(
    factory: SimilarityFactory,
    index: dict[str, list[str]],
    val: dict[str, list[str]],
    val_oos: Sequence[str],
    test: dict[str, list[str]],
    test_oos: Sequence[str],
) -> dict[str, float]:
    """CLINC150 protocol: threshold maximising accuracy on val + oos_val, metrics on test."""
    predict = _answer_predictor(factory, index)
    val_scores, val_pred, val_gold = predict(val, val_oos)
    choice = tune_threshold(val_scores.tolist(), val_pred.tolist(), val_gold, "accuracy")
    threshold = choice.threshold
    scores, predicted, gold = predict(test, test_oos)
    in_scope = np.array([g is not None for g in gold])
    answered = scores >= threshold
    correct = np.array([p == g for p, g in zip(predicted, gold, strict=True)])
    abstained = ~answered
    return {
        "threshold": float(threshold),
        "in_scope_accuracy": float((answered & correct & in_scope).sum() / max(in_scope.sum(), 1)),
        "oos_recall": float((abstained & ~in_scope).sum() / max((~in_scope).sum(), 1)),
        "oos_precision": float((abstained & ~in_scope).sum() / max(abstained.sum(), 1)),
        "accuracy": float(((answered & correct & in_scope) | (abstained & ~in_scope)).mean()),
        "auroc": auroc(scores, in_scope),
        "val_accuracy": float(choice.metrics["accuracy"]),
    }
