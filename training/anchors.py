"""Anchors: what the base model says about general sentences, kept while it is fine-tuned.

Fine-tuning the base on a few hundred FAQ phrasings moves the whole network, and the
general language it learned from its teachers fades: questions worded unlike any stored
phrasing, and FAQs added after the fine-tune, are matched worse (docs/quality.md). As in
Learning without Forgetting (Li & Hoiem, 2016), the fine-tune also regresses the base
model's own vectors of sentences outside the FAQ set: synthetic requests made from the FAQ
phrasings and the base vocabulary's whole words (training.synthetic_requests), so nothing
beyond the shipped model itself is needed at fine-tune time.
"""

from __future__ import annotations

import re

import numpy as np
import torch
import torch.nn.functional as F

from model.encoder import GruEncoder
from model.tokenizer import Tokenizer
from training.batches import Batcher
from training.synthetic_requests import synthetic_requests

_LATIN_WORD_PIECE = re.compile(r"^<([a-z]{2,})>$")


def vocabulary_words(tokenizer: Tokenizer) -> list[str]:
    """The tokenizer's lower-case Latin whole words, in vocabulary order (the base's most
    frequent pieces first, then the teacher's word list)."""
    return [m.group(1) for p in tokenizer.word_pieces if (m := _LATIN_WORD_PIECE.match(p))]


def anchor_sentences(
    tokenizer: Tokenizer, phrasings: list[str], count: int, seed: int
) -> list[str]:
    return synthetic_requests(phrasings, vocabulary_words(tokenizer), count, seed)


class Anchors:
    """Sentences (in a Batcher: row i = sentence i) and the base network's unit vectors."""

    def __init__(self, batcher: Batcher) -> None:
        self.batcher = batcher
        self.targets: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.batcher)

    @torch.no_grad()
    def fix_targets(self, network: GruEncoder, device: torch.device, batch: int = 256) -> None:
        """The network's vectors as it is now (the base, before any update)."""
        was_training = network.training
        network.eval()
        parts = []
        for start in range(0, len(self), batch):
            rows = np.arange(start, min(start + batch, len(self)))
            ids, lengths, _ = self.batcher.collate(rows)
            parts.append(network(ids.to(device), lengths).float())
        self.targets = torch.cat(parts) if parts else torch.zeros(0, network.config.dim)
        network.train(was_training)

    def loss(
        self, network: GruEncoder, batch: int, rng: np.random.Generator, device: torch.device
    ) -> torch.Tensor:
        """1 - cosine between the network's vectors of a random batch and the base's."""
        if self.targets is None:
            raise RuntimeError("Anchors.fix_targets must run before training")
        rows = rng.choice(len(self), size=min(batch, len(self)), replace=False)
        ids, lengths, index = self.batcher.collate(rows)
        vectors = F.normalize(network(ids.to(device), lengths).float(), dim=-1)
        return (1.0 - (vectors * self.targets[index.to(device)]).sum(-1)).mean()
