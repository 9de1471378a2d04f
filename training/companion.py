"""The base network beside its fine-tuned copy (an output ensemble of two members).

Fine-tuning on an FAQ set with two or three phrasings per FAQ teaches the network that set
and costs it some of the base's general knowledge; no regulariser kept that knowledge
without losing the set's own fit (anchors, WiSE-FT, lower rates, frozen parts:
docs/quality.md). Scoring with the mean of the two networks' cosines keeps both. Measured
on `samesay bench faq` splits (top-1, fine-tuned alone -> with the base beside it):
CLINC150 at 2 / 5 phrasings per FAQ 0.647 -> 0.676 and 0.726 -> 0.755, the demo at 2
phrasings 0.529 -> 0.575, fin_cs_zh 0.506 -> 0.563; with the demo's 15 phrasings per FAQ
it lost (0.779 -> 0.761), so training.recipes turns it on for few-phrasing sets only.
The recipe then distils the pair into the fine-tuned network (training.ensemble_distillation),
which keeps the pair's scores at one network's cost on /ask.

The companion is the starting network as it was, with one difference: the pieces the FAQ
set added to the vocabulary (whole words the base did not know) would be random rows to
it. Each gets the row the base would have read instead: the mean of the known pieces
beside it (its n-grams), or the unknown row where it stands alone.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch

from model.encoder import GruEncoder
from model.tokenizer import UNK_ID, Tokenizer

# Texts per forward pass when imprinting class vectors.
_CHUNK = 256


def companion_network(
    start: GruEncoder, tokenizer: Tokenizer, sentences: Sequence[str], base_vocabulary: int
) -> GruEncoder:
    """A copy of `start` (the base, its table extended for the FAQ set) whose pieces past
    `base_vocabulary` read as the base would read their words (module docstring)."""
    companion = copy.deepcopy(start).cpu().eval()
    table = companion.embedding.weight.detach()
    width = table.shape[1]
    sums = torch.zeros(len(tokenizer), width)
    counts = torch.zeros(len(tokenizer))
    for sentence in sentences:
        for pieces in tokenizer.encode(sentence):
            added = [i for i in pieces if i >= base_vocabulary]
            if not added:
                continue
            known = [i for i in pieces if i < base_vocabulary]
            target = table[known].mean(0) if known else table[UNK_ID]
            sums[added] += target
            counts[added] += 1
    rows = torch.arange(base_vocabulary, len(tokenizer))
    seen = counts[rows] > 0
    with torch.no_grad():
        table[rows] = table[UNK_ID].clone()  # a piece never met in a sentence: as unknown
        table[rows[seen]] = sums[rows[seen]] / counts[rows[seen], None]
    return companion


def imprinted_class_vectors(
    network: GruEncoder, tokenizer: Tokenizer, groups: Sequence[Sequence[str]]
) -> torch.Tensor:
    """(C, dim) unit class vectors: each group's mean vector under `network` (weight
    imprinting, Qi et al. 2018), for a member that was never trained with a classifier."""
    texts = [text for group in groups for text in group]
    owners = np.array([row for row, group in enumerate(groups) for _ in group])
    vectors = []
    network = network.eval()
    with torch.no_grad():
        for start in range(0, len(texts), _CHUNK):
            ids, lengths = tokenizer.batch(texts[start : start + _CHUNK])
            vectors.append(network(torch.from_numpy(ids), torch.from_numpy(lengths)))
    stacked = torch.cat(vectors)
    sums = torch.zeros(len(groups), stacked.shape[1]).index_add_(
        0, torch.from_numpy(owners), stacked
    )
    return torch.nn.functional.normalize(sums, dim=-1)
