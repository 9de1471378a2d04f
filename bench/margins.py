"""`samesay bench margins`: softmax vs AM-softmax vs simpler-A-softmax on unseen groups,
top-1/5/10 (protocols a and b), mean ± spread over seeds — the paper's comparison."""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.quality import make_split
from model.checkpoint import load_encoder
from training.evaluate import encoder_similarity, ranking_protocol, retrieval_protocol
from training.readers import Dataset
from training.trainer import TrainConfig, train_encoder

LOSSES = ("softmax", "am_softmax", "simpler_a_softmax")


def run_margin_study(
    dataset: Dataset,
    out_dir: Path,
    config: TrainConfig,
    seeds: int = 3,
    progress: bool = True,
) -> dict[str, Any]:
    """Train the seen groups once per (loss, seed); evaluate on the unseen groups."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    split = make_split(dataset, seed=0)  # the same unseen groups for every run
    train_groups = [split.train[g] for g in split.seen]
    unseen_index = split.only(split.train, split.unseen)
    unseen_test = split.only(split.test, split.unseen)
    runs: list[dict[str, Any]] = []
    for loss in LOSSES:
        for seed in range(seeds):
            # One network per run, as in the paper (an ensemble's members would share seeds).
            run_config = replace(
                config, encoder=replace(config.encoder, members=1), loss=loss, seed=seed
            )
            started = time.perf_counter()
            path = train_encoder(
                train_groups, out_dir / f"{loss}_seed{seed}", run_config, progress=progress
            )
            seconds = time.perf_counter() - started
            similarity = encoder_similarity(load_encoder(path))
            runs.append(
                {
                    "loss": loss,
                    "seed": seed,
                    "train_seconds": seconds,
                    "unseen_ranking": ranking_protocol(similarity, unseen_test),
                    "unseen": retrieval_protocol(similarity, unseen_index, unseen_test),
                }
            )
            (out_dir / "margins.json").write_text(
                json.dumps({"config": config.to_dict(), "runs": runs}, indent=2), encoding="utf-8"
            )
    summary = summarize(runs)
    report = {"config": config.to_dict(), "runs": runs, "summary": summary}
    (out_dir / "margins.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    return report


def summarize(runs: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """loss → "protocol.topk" → {mean, spread (max − min), stdev}."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for loss in dict.fromkeys(r["loss"] for r in runs):
        mine = [r for r in runs if r["loss"] == loss]
        out[loss] = {}
        for protocol in ("unseen_ranking", "unseen"):
            for key in ("top1", "top5", "top10"):
                values = [r[protocol][key] for r in mine]
                out[loss][f"{protocol}.{key}"] = {
                    "mean": statistics.fmean(values),
                    "spread": max(values) - min(values),
                    "stdev": statistics.stdev(values) if len(values) > 1 else 0.0,
                }
    return out


def format_markdown(summary: dict[str, dict[str, dict[str, float]]]) -> str:
    columns = [f"{p}.{k}" for p in ("unseen_ranking", "unseen") for k in ("top1", "top5", "top10")]
    lines = [
        "| loss | " + " | ".join(columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for loss, metrics in summary.items():
        cells = [f"{metrics[c]['mean']:.3f} ± {metrics[c]['stdev']:.3f}" for c in columns]
        lines.append(f"| {loss} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
