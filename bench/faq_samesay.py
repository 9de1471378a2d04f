"""A Samesay column of `samesay bench faq`: the FAQ set through the service's own code path.

What a user does: `samesay import faqs.jsonl` into a fresh store (store.bulk.import_file),
then the first `samesay serve` (app.bootstrap.ensure_ready trains the model from the stored
entries), then /ask, i.e. the searcher over the FAISS index (best phrasing per FAQ). Only
HTTP is left out: it adds latency, not different answers.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from app.bootstrap import BootstrapConfig, ensure_ready
from app.config import Settings
from app.model_files import load_serving_encoder
from bench.faq_sets import FaqSet
from index.searcher import FaqSearcher, SearcherConfig
from store.bulk import import_file
from store.faq_store import FaqStore
from training.recipes import FaqRecipe
from training.trainer import TrainConfig

_WARMUP_ASKS = 5


@dataclass(frozen=True)
class ColumnScores:
    """Per question: the best score and the FAQ index it points at (-1: nothing found)."""

    scores: np.ndarray  # (q,) float64
    predicted: np.ndarray  # (q,) int64, index into FaqSet.faqs
    cpu_ms_per_ask: float
    train_seconds: float | None = None
    # The threshold the first start left in the store (learned, or the default): what a
    # new user's questions meet before anyone tunes it.
    first_start_threshold: float | None = None
    rehearsal_seconds: float | None = None  # the rehearsal that learned it, when one ran


def write_import_file(faq_set: FaqSet, path: Path) -> Path:
    """The FAQs as the JSONL `samesay import` reads; answers only name their FAQ."""
    lines = [
        json.dumps(
            {"question": faq.question, "answer": f"answer {i}", "alternates": list(faq.alternates)},
            ensure_ascii=False,
        )
        for i, faq in enumerate(faq_set.faqs)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def samesay_scores(
    faq_set: FaqSet,
    train: TrainConfig,
    threads: int,
    progress: bool = True,
    members: int | None = None,
    distil_steps: int | None = None,
) -> ColumnScores:
    """Import, first start with `train` as the recipe, then ask every question one by one."""
    chosen = {"members": members, "distil_steps": distil_steps}
    recipe_changes = {name: value for name, value in chosen.items() if value is not None}
    with tempfile.TemporaryDirectory(prefix="samesay-bench-faq-") as scratch:
        settings = Settings(
            data_dir=Path(scratch), torch_threads=threads, faiss_threads=1, _env_file=None
        )
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        ids = _import(settings, write_import_file(faq_set, Path(scratch) / "faqs.jsonl"))
        report = ensure_ready(
            settings,
            BootstrapConfig(
                recipe=FaqRecipe(train=train, **recipe_changes),
                import_demo=False,
                tune_on_demo=False,
            ),
            progress=progress,
            echo=lambda message: print(f"bench faq: {message}", file=sys.stderr, flush=True),
        )
        position = {faq_id: i for i, faq_id in enumerate(ids)}
        scores, predicted, cpu = _ask_all(settings, faq_set, position, progress)
    threshold = report.threshold if report.threshold is not None else settings.default_threshold
    return ColumnScores(
        scores, predicted, cpu, report.train_seconds, threshold, report.rehearsal_seconds
    )


def _import(settings: Settings, path: Path) -> list[int]:
    store = FaqStore(settings.resolved_database_url)
    try:
        report = import_file(store, path, strict=True, progress=False)
    finally:
        store.close()
    return report.ids


def _ask_all(
    settings: Settings, faq_set: FaqSet, position: dict[int, int], progress: bool
) -> tuple[np.ndarray, np.ndarray, float]:
    # What Service.open does, without the HTTP-side parts (ask log, metrics, pollers).
    torch.set_num_threads(settings.torch_threads)
    store = FaqStore(settings.resolved_database_url)
    try:
        searcher = FaqSearcher(
            store,
            load_serving_encoder(settings, store),
            settings.index_dir,
            SearcherConfig.from_settings(settings),
        )
        searcher.start()
        # Untimed warm-up: the first encodes pay one-off allocations, not the cost of an ask.
        for question in faq_set.questions[:_WARMUP_ASKS]:
            searcher.search(question.text, k=1)
        scores = np.full(len(faq_set.questions), -1.0)  # a cosine no match goes below
        predicted = np.full(len(faq_set.questions), -1, dtype=np.int64)
        cpu = 0.0
        questions = tqdm(
            faq_set.questions, desc=f"asking ({faq_set.name})", unit=" q", disable=not progress
        )
        for row, question in enumerate(questions):
            started = time.process_time()
            matches = searcher.search(question.text, k=1)
            cpu += time.process_time() - started
            if matches:
                scores[row] = matches[0].score
                predicted[row] = position[matches[0].faq_id]
    finally:
        store.close()
    return scores, predicted, 1000.0 * cpu / max(len(faq_set.questions), 1)
