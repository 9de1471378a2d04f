"""Measure the first start on the demo: training time and answer quality at the tuned threshold.

    python -m bench.demo_measure [--threads 2] [--keep DIR]

Runs `ensure_ready` with the real first-start recipe into a fresh data directory, then
prints the training time, the tuned threshold and, per language, the rates at it: held-out
phrasings answered with the right FAQ, wrong answers, unanswerable questions declined.
Those rates are measured on the examples the threshold was tuned on, so it also prints a
2-fold cross-validated accuracy (tune on one half, score the other) as the honest estimate.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from app.bootstrap import BootstrapConfig, ensure_ready
from app.config import Settings
from app.demo import load_unanswerable
from app.demo_labels import demo_tuning_examples
from bench.new_topics import new_topic_hits
from model.checkpoint import load_encoder
from store.faq_store import FaqStore
from training.recipes import FaqRecipe, fine_tune_train_config, first_start_train_config
from training.threshold import best_matches, rates_at, tune_threshold
from training.trainer import TrainConfig


def cross_validated_accuracy(
    scores: np.ndarray, predicted: np.ndarray, gold: list[int | None], seed: int = 0
) -> float:
    """Mean accuracy over 2 folds: threshold tuned on one random half, scored on the other."""
    return cross_validated_rates(scores, predicted, gold, seed)["accuracy"]


def cross_validated_rates(
    scores: np.ndarray, predicted: np.ndarray, gold: list[int | None], seed: int = 0
) -> dict[str, float]:
    """Every `rates_at` metric, plus `threshold`, as the mean over 2 folds: the threshold
    tuned (accuracy) on one random half of the examples, scored on the other half."""
    order = np.random.default_rng(seed).permutation(len(gold))
    halves = (order[: len(order) // 2], order[len(order) // 2 :])
    folds = []
    for tune_on, score_on in (halves, halves[::-1]):
        choice = tune_threshold(
            scores[tune_on], predicted[tune_on], [gold[i] for i in tune_on], "accuracy"
        )
        rates = rates_at(
            choice.threshold, scores[score_on], predicted[score_on], [gold[i] for i in score_on]
        )
        folds.append({**rates, "threshold": choice.threshold})
    return {name: float(np.mean([fold[name] for fold in folds])) for name in folds[0]}


def measure(data_dir: Path, threads: int, train: TrainConfig | None = None) -> dict[str, object]:
    """`train` replaces the first-start recipe's training config (experiments)."""
    settings = Settings(data_dir=data_dir, _env_file=None)
    train = train or first_start_train_config()
    config = BootstrapConfig(
        recipe=FaqRecipe(train=dataclasses.replace(train, num_threads=threads))
    )
    wall, cpu = time.perf_counter(), time.process_time()
    report = ensure_ready(settings, config)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu

    store = FaqStore(settings.resolved_database_url)
    try:
        entries = list(store.iter_entries())
        # From the store, so a data directory prepared earlier (--keep) is measured too.
        threshold = store.get_threshold()
    finally:
        store.close()
    if threshold is None:
        raise SystemExit(f"{data_dir} has no tuned threshold: it holds no demo FAQs")
    examples = demo_tuning_examples(entries)
    encoder = load_encoder(settings.resolved_model_path)
    scores, predicted = best_matches(encoder, entries, [q for q, _, _ in examples])
    gold = [faq_id for _, faq_id, _ in examples]
    languages = [language for _, _, language in examples]
    rates = {"all": rates_at(threshold, scores, predicted, gold)}
    for language in ("en", "zh"):
        rows = [i for i, lang in enumerate(languages) if lang == language]
        subset_gold = [gold[i] for i in rows]
        rates[language] = rates_at(threshold, scores[rows], predicted[rows], subset_gold)
    top1 = {}
    for language in ("en", "zh"):
        rows = [i for i, (_, g, lang) in enumerate(examples) if lang == language and g is not None]
        top1[language] = float(np.mean([predicted[i] == gold[i] for i in rows]))
    declined = {}
    for language in ("en", "zh"):
        unanswerable = load_unanswerable(language)
        kind_scores, _ = best_matches(encoder, entries, [q.question for q in unanswerable])
        for kind in ("off_topic", "near_miss"):
            rows = [i for i, q in enumerate(unanswerable) if q.kind == kind]
            rate = float(np.mean(kind_scores[rows] < threshold))
            declined[f"{language}_{kind}"] = round(rate, 3)
    store = FaqStore(settings.resolved_database_url)
    try:  # last: it adds FAQs to the store
        new_topics = new_topic_hits(store, encoder)
    finally:
        store.close()
    checkpoint = json.loads((settings.resolved_model_path / "checkpoint.json").read_text())
    return {
        "trained_now": report.trained,
        "train_seconds_wall": round(report.train_seconds or 0.0, 1),
        "first_start_seconds_wall": round(wall, 1),
        "first_start_seconds_cpu": round(cpu, 1),
        "torch_threads": threads,
        "training_sentences": checkpoint["training"]["sentences"],
        "threshold": threshold,
        "heldout_top1_no_threshold": {k: round(v, 3) for k, v in top1.items()},
        "at_tuned_threshold": {
            name: {k: round(v, 3) for k, v in values.items()} for name, values in rates.items()
        },
        "unanswerable_declined_by_kind": declined,
        "cross_validated_accuracy": round(cross_validated_accuracy(scores, predicted, gold), 3),
        "new_topics_added_after_training": new_topics,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch threads for training")
    parser.add_argument("--keep", type=Path, help="data directory to fill (default: a temp one)")
    parser.add_argument(
        "--base", type=Path, help="base checkpoint to fine-tune (default: the packaged one)"
    )
    args = parser.parse_args()
    train = fine_tune_train_config(args.base) if args.base else None
    if args.keep:
        result = measure(args.keep, args.threads, train)
    else:
        with tempfile.TemporaryDirectory() as scratch:
            result = measure(Path(scratch), args.threads, train)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
