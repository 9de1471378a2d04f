"""Training batches: pre-tokenised sentences, padded per batch, grouped by length."""

from __future__ import annotations

import numpy as np
import torch

from model.tokenizer import Tokenizer


def drop_words(
    positions: list[tuple[int, ...]], rate: float, rng: np.random.Generator
) -> list[tuple[int, ...]]:
    """Each token position (a word with its pieces, or a CJK character) dropped with
    probability `rate`; a sentence keeps at least one."""
    if len(positions) < 2:
        return positions
    keep = rng.random(len(positions)) >= rate
    if not keep.any():
        keep[rng.integers(len(positions))] = True
    return [p for p, k in zip(positions, keep, strict=True) if k]


class Batcher:
    """Pre-tokenised sentences → padded (ids, lengths, labels) batches."""

    def __init__(self, tokenizer: Tokenizer, sentences: list[str], labels: list[int]) -> None:
        self.encoded = [tokenizer.encode(s) for s in sentences]
        self.labels = np.asarray(labels, dtype=np.int64)
        self.lengths = np.fromiter((len(e) for e in self.encoded), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.encoded)

    def collate(
        self, rows: np.ndarray, word_dropout: float = 0.0, rng: np.random.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        batch = [self.encoded[i] for i in rows]
        if word_dropout > 0 and rng is not None:
            batch = [drop_words(e, word_dropout, rng) for e in batch]
        lengths = np.fromiter((len(e) for e in batch), dtype=np.int64, count=len(batch))
        width = max(len(p) for e in batch for p in e)
        ids = np.zeros((len(batch), int(lengths.max()), width), dtype=np.int64)
        for row, positions in enumerate(batch):
            for col, piece_ids in enumerate(positions):
                ids[row, col, : len(piece_ids)] = piece_ids
        return (
            torch.from_numpy(ids),  # (B, T, P)
            torch.from_numpy(lengths),  # (B,)
            torch.from_numpy(self.labels[rows]),  # (B,)
        )


def length_batches(
    lengths: np.ndarray,
    batch_size: int,
    bucket_batches: int,
    rng: np.random.Generator,
    shuffle_batches: bool = True,
) -> list[np.ndarray]:
    """Row indices in batches of similar-length sentences (random pools of `bucket_batches`
    batches, sorted by length inside): less padding, no fixed order. `shuffle_batches=False`
    leaves the batch order to a caller that interleaves several sources itself."""
    order = rng.permutation(len(lengths))
    pool = batch_size * max(bucket_batches, 1)
    batches = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    if not shuffle_batches:
        return batches
    return [batches[i] for i in rng.permutation(len(batches))]
