"""The columns of `samesay bench faq`: Samesay's two recipes and three in-process baselines.

Every column turns a `FaqSet` into one best score and FAQ per question (best phrasing per
FAQ); the protocol (threshold tuning, scoring) is the same for all, in bench.faq. Baselines
need no server: MiniLM and USE score by cosine of their unit vectors, BM25 by Okapi score over
word tokens with Chinese split into characters (training.bm25.bm25_tokens_cjk).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.faq_samesay import ColumnScores, samesay_scores
from bench.faq_sets import FaqSet
from model.base_model import shipped_base_path
from training.bm25 import BM25, bm25_tokens_cjk
from training.recipes import fine_tune_train_config, scratch_train_config
from training.trainer import TrainConfig

COLUMNS = ("shipped", "scratch", "minilm", "use", "bm25")
# Questions scored in chunks: a (chunk, phrasings) float32 matrix at a time.
_CHUNK = 1024
# Baselines time lone questions on a sample only: a lone USE sentence can take 0.5 s.
LATENCY_SAMPLE = 20

Encode = Callable[[Sequence[str]], np.ndarray]


@dataclass
class ColumnContext:
    """What columns share within one run: settings and the baselines' vector caches."""

    threads: int = 1
    base: Path | None = None
    # Overrides of the first-start recipe (tests use tiny epochs; --epochs sets one).
    train_overrides: dict[str, object] = field(default_factory=dict)
    progress: bool = True
    latency_sample: int = LATENCY_SAMPLE
    # FaqRecipe.members and FaqRecipe.distil_steps; None = the recipe's.
    members: int | None = None
    distil_steps: int | None = None
    encoders: dict[str, CachedEncoder] = field(default_factory=dict, repr=False)


def skip_reason(column: str, context: ColumnContext) -> str | None:
    """Why a column cannot run here, or None."""
    if column == "shipped" and (context.base or shipped_base_path()) is None:
        return "no base checkpoint: pass --base DIR (this build has no packaged base model)"
    return None


def column_scores(column: str, faq_set: FaqSet, seed: int, context: ColumnContext) -> ColumnScores:
    if column in ("shipped", "scratch"):
        return samesay_scores(
            faq_set,
            _recipe(column, seed, context),
            context.threads,
            context.progress,
            members=context.members,
            distil_steps=context.distil_steps,
        )
    if column == "bm25":
        return _bm25_scores(faq_set, context.latency_sample)
    if column in ("minilm", "use"):
        return _vector_scores(faq_set, _encoder(column, context), context.latency_sample)
    raise ValueError(f"unknown column {column!r}: choose from {', '.join(COLUMNS)}")


def _recipe(column: str, seed: int, context: ColumnContext) -> TrainConfig:
    """`scratch`: the first-start recipe without a base model; `shipped`: the first-start
    recipe as shipped, fine-tuning the packaged base (or `--base`)."""
    if column == "shipped":
        base = context.base or shipped_base_path()
        assert base is not None  # skip_reason said so
        train = fine_tune_train_config(base)
    else:
        train = scratch_train_config()
    return dataclasses.replace(
        train,
        seed=seed,
        num_threads=context.threads,
        **context.train_overrides,  # type: ignore[arg-type]
    )


# ---- vector baselines -------------------------------------------------------------------------


class CachedEncoder:
    """Unit vectors per text, each text encoded once per run (seeds share most texts)."""

    def __init__(self, encode: Encode) -> None:
        self._encode = encode
        self._cache: dict[str, np.ndarray] = {}

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            for text, vector in zip(missing, self._encode(missing), strict=True):
                self._cache[text] = np.asarray(vector, dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])  # (n, dim)

    def encode_uncached(self, text: str) -> np.ndarray:
        return np.asarray(self._encode([text])[0], dtype=np.float32)


def _encoder(column: str, context: ColumnContext) -> CachedEncoder:
    if column not in context.encoders:
        context.encoders[column] = CachedEncoder(_load_encode(column, context.threads))
    return context.encoders[column]


def _load_encode(column: str, threads: int) -> Encode:
    if column == "minilm":
        import torch

        from bench.minilm import MiniLmEncoder

        torch.set_num_threads(threads)
        return MiniLmEncoder().encode
    from training.teacher_encoders import UseM3  # the `bench` extra

    return UseM3(threads=threads)


def _phrasings(faq_set: FaqSet) -> tuple[list[str], np.ndarray]:
    texts = [text for faq in faq_set.faqs for text in faq.phrasings]
    owners = np.array([i for i, faq in enumerate(faq_set.faqs) for _ in faq.phrasings])
    return texts, owners


def _best(
    similarity: Callable[[list[str]], np.ndarray], questions: list[str], owners: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Best phrasing's score and owner FAQ per question: the searcher's decision, in chunks."""
    scores, predicted = [], []
    for start in range(0, len(questions), _CHUNK):
        matrix = similarity(questions[start : start + _CHUNK])  # (chunk, phrasings)
        best = matrix.argmax(axis=1)
        scores.append(matrix.max(axis=1).astype(np.float64))
        predicted.append(owners[best])
    if not scores:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    return np.concatenate(scores), np.concatenate(predicted).astype(np.int64)


def _lone_cpu_ms(answer_one: Callable[[str], object], questions: list[str], sample: int) -> float:
    """CPU ms to answer one question alone (encode + score every phrasing), on a sample."""
    chosen = questions[:sample]
    started = time.process_time()
    for text in chosen:
        answer_one(text)
    return 1000.0 * (time.process_time() - started) / max(len(chosen), 1)


def _vector_scores(faq_set: FaqSet, encoder: CachedEncoder, sample: int) -> ColumnScores:
    texts, owners = _phrasings(faq_set)
    stored = encoder(texts)  # (p, dim) unit rows
    questions = [q.text for q in faq_set.questions]
    asked = encoder(questions)  # (q, dim)
    position = {text: i for i, text in enumerate(questions)}
    scores, predicted = _best(
        lambda chunk: asked[[position[t] for t in chunk]] @ stored.T, questions, owners
    )
    cpu = _lone_cpu_ms(lambda text: stored @ encoder.encode_uncached(text), questions, sample)
    return ColumnScores(scores, predicted, cpu)


# ---- BM25 -------------------------------------------------------------------------------------


def _bm25_scores(faq_set: FaqSet, sample: int) -> ColumnScores:
    texts, owners = _phrasings(faq_set)
    index = BM25(texts, tokenize=bm25_tokens_cjk)
    questions = [q.text for q in faq_set.questions]
    scores, predicted = _best(index.scores, questions, owners)
    cpu = _lone_cpu_ms(lambda text: index.scores([text]), questions, max(sample, 200))
    return ColumnScores(scores, predicted, cpu)
