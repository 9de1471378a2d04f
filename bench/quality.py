"""`samesay bench quality`: train the default recipe on a dataset, evaluate every protocol
for the model and for BM25 in the same run, write quality.json + a training-curve PNG."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from model.checkpoint import load_class_weights, load_encoder, read_metadata
from model.sentence_encoder import SentenceEncoder
from training.errors import DatasetError
from training.evaluate import (
    SimilarityFactory,
    answer_or_abstain,
    bm25_similarity,
    class_mixed_similarity,
    encoder_similarity,
    ranking_protocol,
    retrieval_protocol,
    val_answer_accuracy,
)
from training.readers import Dataset, merge_datasets
from training.trainer import TrainConfig, train_encoder

Groups = dict[str, list[str]]
# Closed-set score = (1 − w) · best phrasing + w · class vector. Mixed beats either alone on
# CLINC150 (docs/quality.md); w is chosen per run on validation data (SHARE_GRID), and this
# is the fallback when a dataset has no validation split.
CLASS_WEIGHT_SHARE = 0.5
SHARE_GRID = tuple(round(0.1 * i, 1) for i in range(11))


@dataclass
class BenchSplit:
    """Everything the protocols need, derived from one dataset."""

    train: Groups  # source train split, all groups
    test: Groups  # source test split, all groups
    unseen: list[str]  # every third group (sorted ids): never trained on by the unseen model
    val: Groups = field(default_factory=dict)  # in-scope validation (threshold choice)
    val_oos: list[str] = field(default_factory=list)
    test_oos: list[str] = field(default_factory=list)

    def only(self, groups: Groups, names: Sequence[str]) -> Groups:
        wanted = set(names)
        return {g: ts for g, ts in groups.items() if g in wanted}

    @property
    def seen(self) -> list[str]:
        unseen = set(self.unseen)
        return [g for g in sorted(self.train) if g not in unseen]


def make_split(dataset: Dataset, seed: int = 0) -> BenchSplit:
    """Source train/test(/val) split when present, else a seeded 70/30 split by sentence."""
    rng = random.Random(seed)
    if {"train", "test"} <= dataset.splits:
        train, test = dataset.groups(["train"]), dataset.groups(["test"])
        val = dataset.groups(["val"])
    else:
        train, test, val = {}, {}, {}
        for group, texts in dataset.groups().items():
            texts = texts[:]
            rng.shuffle(texts)
            n_test = round(len(texts) * 0.3) if len(texts) >= 2 else 0
            train[group], test[group] = texts[n_test:], texts[:n_test]
    test = {g: ts for g, ts in test.items() if ts and g in train}
    if len(train) < 6:
        raise DatasetError(f"{dataset.name}: the benchmark needs at least 6 groups")
    oos = dataset.out_of_scope
    val_oos, test_oos = list(oos.get("val", [])), list(oos.get("test", []))
    if "all" in oos:  # one unsplit out-of-scope file: half tunes the threshold, half tests it
        pool = oos["all"][:]
        rng.shuffle(pool)
        val_oos, test_oos = pool[: len(pool) // 2], pool[len(pool) // 2 :]
    if (val_oos or test_oos) and not val:
        # No in-scope validation split: half of each group's test sentences tune the threshold.
        val = {g: ts[: len(ts) // 2] for g, ts in test.items()}
        test = {g: ts[len(ts) // 2 :] for g, ts in test.items()}
    names = sorted(train)
    return BenchSplit(train, test, names[2::3], val, val_oos, test_oos)


def _evaluate(factory: SimilarityFactory, split: BenchSplit, unseen_factory=None) -> dict:
    """All protocols for one method; `unseen_factory` = the model that never saw the unseen
    groups (the closed-set/oos model saw them)."""
    unseen_factory = unseen_factory or factory
    unseen_test = split.only(split.test, split.unseen)
    result: dict[str, Any] = {
        "unseen": retrieval_protocol(
            unseen_factory, split.only(split.train, split.unseen), unseen_test
        ),
        "unseen_ranking": ranking_protocol(unseen_factory, unseen_test),
        "closed": retrieval_protocol(factory, split.train, split.test),
    }
    if split.val_oos and split.test_oos:
        result["oos"] = answer_or_abstain(
            factory, split.train, split.val, split.val_oos, split.test, split.test_oos
        )
    return result


def encode_one_latency(encoder: SentenceEncoder, texts: Sequence[str]) -> dict[str, float]:
    """Single-question encode time on one thread (the service's setting), in milliseconds."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for text in texts[:50]:  # warm-up: caches, allocator
            encoder.encode_one(text)
        wall, cpu = [], []
        for text in texts[:2000]:
            started, started_cpu = time.perf_counter(), time.process_time()
            encoder.encode_one(text)
            cpu.append((time.process_time() - started_cpu) * 1000)
            wall.append((time.perf_counter() - started) * 1000)
    finally:
        torch.set_num_threads(previous)
    wall_ms, cpu_ms = np.asarray(wall), np.asarray(cpu)
    # CPU time is what one question costs; wall time also counts waiting for a shared core.
    return {
        "mean": float(wall_ms.mean()),
        "p50": float(np.percentile(wall_ms, 50)),
        "p95": float(np.percentile(wall_ms, 95)),
        "cpu_mean": float(cpu_ms.mean()),
        "cpu_p50": float(np.percentile(cpu_ms, 50)),
    }


def plot_training_curve(checkpoints: dict[str, Path], path: Path) -> Path:
    """Loss, train accuracy and held-out top-1 per epoch for each trained model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    for label, checkpoint in checkpoints.items():
        history = read_metadata(checkpoint)["training"]["history"]
        epochs = [h["epoch"] for h in history]
        ax_loss.plot(epochs, [h["loss"] for h in history], marker="o", label=label)
        ax_acc.plot(epochs, [h["train_accuracy"] for h in history], label=f"{label}: train acc")
        if history and "holdout_top1" in history[0]:
            held = [h["holdout_top1"] for h in history]
            ax_acc.plot(epochs, held, linestyle="--", label=f"{label}: held-out top-1")
    ax_loss.set(title="training loss", xlabel="epoch", ylabel="loss")
    ax_acc.set(title="accuracy", xlabel="epoch", ylim=(0, 1.02))
    for axis in (ax_loss, ax_acc):
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def closed_set_similarity(
    path: Path, encoder: SentenceEncoder, split: BenchSplit, class_weight_share: float
) -> SimilarityFactory:
    """Scoring for the closed-set/out-of-scope protocols: best phrasing mixed with the
    classifier's class vectors (the split's groups were given first and in sorted order to the
    trainer, so class_groups maps them to rows); best phrasing alone without class vectors."""
    weights = load_class_weights(path)
    if weights is None or class_weight_share <= 0:
        return encoder_similarity(encoder)
    row_of_input = {g: row for row, g in enumerate(read_metadata(path)["training"]["class_groups"])}
    text_class: dict[str, int] = {}
    for position, group in enumerate(sorted(split.train)):
        for text in split.train[group]:
            text_class.setdefault(text, row_of_input[position])
    return class_mixed_similarity(encoder, weights, text_class, class_weight_share)


class _CachedEncoder:
    """encode() with a per-text cache: choosing the mix re-scores the same sentences."""

    def __init__(self, encoder: SentenceEncoder) -> None:
        self.encoder = encoder
        self.lexical = encoder.lexical
        self._vectors: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, self.encoder.encode(missing), strict=True))
        return np.stack([self._vectors[t] for t in texts])


def choose_class_weight_share(
    path: Path, encoder: SentenceEncoder, split: BenchSplit, grid: Sequence[float] = SHARE_GRID
) -> tuple[float, dict[str, float]]:
    """The mix with the best validation score, never a test score: answer-or-abstain accuracy
    on val + oos_val at its own tuned threshold when the split has out-of-scope data, else
    closed-set top-1 on val. Ties go to the share nearest 0.5. Without a val split or class
    vectors: CLASS_WEIGHT_SHARE. Returns (share, {share: val score})."""
    if not split.val or load_class_weights(path) is None:
        return CLASS_WEIGHT_SHARE, {}
    cached = _CachedEncoder(encoder)
    scores: dict[str, float] = {}
    for share in grid:
        factory = closed_set_similarity(path, cached, split, share)  # type: ignore[arg-type]
        if split.val_oos:
            value = val_answer_accuracy(factory, split.train, split.val, split.val_oos)
        else:
            value = retrieval_protocol(factory, split.train, split.val, ks=(1,))["top1"]
        scores[str(share)] = value
    best = max(scores.values())
    chosen = min(
        (float(k) for k, v in scores.items() if v >= best - 1e-12), key=lambda w: abs(w - 0.5)
    )
    return chosen, scores


def run_quality_bench(
    dataset: Dataset,
    out_dir: Path,
    config: TrainConfig | None = None,
    extra_train: Sequence[Dataset] = (),
    progress: bool = True,
    class_weight_share: float | None = None,
) -> dict[str, Any]:
    """Train (unseen model: seen groups only; full model: all groups), evaluate model + BM25,
    write quality.json. `class_weight_share`: weight of the class vectors in the full model's
    closed-set/out-of-scope scores (0 = best phrasing only, as the service scores); None =
    chosen on the validation split (`choose_class_weight_share`)."""
    config = config or TrainConfig()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    split = make_split(dataset, config.seed)

    def training_groups(names: Sequence[str]) -> list[list[str]]:
        merged = merge_datasets(extra_train).groups() if extra_train else {}
        return [split.train[g] for g in names] + list(merged.values())

    started = time.perf_counter()
    unseen_path = train_encoder(
        training_groups(split.seen), out_dir / "model_unseen", config, progress=progress
    )
    unseen_seconds = time.perf_counter() - started
    started = time.perf_counter()
    # The closed-set model trains on EVERY group (no held-out groups for model selection):
    # a held-out group would have no class vector and no trained phrasings (+1.2 pts closed).
    full_path = train_encoder(
        training_groups(sorted(split.train)),
        out_dir / "model_full",
        replace(config, holdout_fraction=0.0),
        progress=progress,
    )
    full_seconds = time.perf_counter() - started
    unseen_model, full_model = load_encoder(unseen_path), load_encoder(full_path)
    device = read_metadata(full_path)["training"]["device"]

    share_scores: dict[str, float] = {}
    if class_weight_share is None:
        class_weight_share, share_scores = choose_class_weight_share(full_path, full_model, split)
    model_metrics = _evaluate(
        closed_set_similarity(full_path, full_model, split, class_weight_share),
        split,
        encoder_similarity(unseen_model),
    )
    bm25_metrics = _evaluate(bm25_similarity(), split)
    curve = plot_training_curve(
        {"unseen-groups model": unseen_path, "full model": full_path},
        out_dir / "training_curve.png",
    )
    queries = [t for ts in split.test.values() for t in ts]
    report: dict[str, Any] = {
        **model_metrics,
        "encode_one_ms": encode_one_latency(full_model, queries),
        "train_seconds": full_seconds,
        "train_seconds_unseen_model": unseen_seconds,
        "device": device,
        "bm25": bm25_metrics,
        "dataset": dataset.name,
        "extra_train": [d.name for d in extra_train],
        "groups": len(split.train),
        "unseen_groups": len(split.unseen),
        "train_config": config.to_dict(),
        "class_weight_share": class_weight_share,
        "class_weight_share_val": share_scores,  # validation score of each candidate mix
        "training_curve": str(curve.name),
    }
    (out_dir / "quality.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    return report


def format_table(report: dict[str, Any]) -> str:
    """Model vs BM25, one row per metric."""
    rows = []
    for section, keys in (
        ("unseen", ("top1", "top5", "top10")),
        ("unseen_ranking", ("top1", "top5", "top10")),
        ("closed", ("top1",)),
        ("oos", ("in_scope_accuracy", "oos_recall", "oos_precision", "threshold", "auroc")),
    ):
        if section not in report:
            continue
        for key in keys:
            model = report[section][key]
            bm25 = report["bm25"].get(section, {}).get(key, float("nan"))
            rows.append(f"{section + '.' + key:<28}{model:>10.4f}{bm25:>10.4f}")
    header = f"{'metric':<28}{'model':>10}{'bm25':>10}"
    footer = (
        f"train_seconds {report['train_seconds']:.1f} on {report['device']}; "
        f"encode_one p50 {report['encode_one_ms']['p50']:.3f} ms wall, "
        f"{report['encode_one_ms']['cpu_p50']:.3f} ms CPU (1 thread)"
    )
    return "\n".join([header, "-" * len(header), *rows, footer])
