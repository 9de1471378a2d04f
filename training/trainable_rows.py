"""Train only the embedding rows a run can update; keep the rest frozen and out of the
optimizer.

A fine-tune of a few FAQs touches a few thousand of the base vocabulary's ~60k pieces, but a
lazy (sparse) Adam over the whole table still keeps two moment tensors of its full size, and
every copy of the network's best weights copies the whole table. Rows that no training
sentence contains never get a gradient, so freezing them changes nothing in what is learned
(the same lazy Adam updates the same rows by the same amounts) while the optimizer state
and the best-epoch copies shrink to the rows in use (docs/quality.md, "Training memory").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from model.encoder import GruEncoder
from model.tokenizer import PAD_ID


class TrainableRows(nn.Module):
    """An embedding table whose `rows` are a parameter (`weight`) and the rest a frozen
    buffer; looked up as the table it replaces."""

    def __init__(self, table: nn.Embedding, rows: torch.Tensor) -> None:
        super().__init__()
        self.sparse = table.sparse
        self.embedding_dim = table.embedding_dim
        # Slot 0 is a zero padding row: ids not trained look it up and get no gradient
        # (a sparse gradient leaves padding out), so no optimizer step ever touches it.
        source = table.weight.detach()
        self.weight = nn.Parameter(torch.cat([source.new_zeros(1, source.shape[1]), source[rows]]))
        # Not in state_dict: the best-epoch copies keep the trained rows only.
        self.register_buffer("frozen", source, persistent=False)
        self.register_buffer("rows", rows, persistent=False)
        slot = torch.zeros(table.num_embeddings, dtype=torch.long, device=source.device)
        slot[rows] = torch.arange(1, len(rows) + 1, device=source.device)
        self.register_buffer("slot", slot, persistent=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        slots = self.slot[ids]
        trained = F.embedding(slots, self.weight, padding_idx=0, sparse=self.sparse)
        outside = (slots == 0) & (ids != PAD_ID)
        if not bool(outside.any()):  # a training batch: every piece is a trained row
            return trained
        # Each id reads one table and the padding row (zeros) of the other: their sum is
        # the row itself, exactly, and the gradient reaches the trained rows unchanged.
        return trained + F.embedding(
            torch.where(outside, ids, PAD_ID), self.frozen, padding_idx=PAD_ID
        )

    def full_table(self) -> nn.Embedding:
        """The whole table with the trained rows written back."""
        weight = self.frozen.clone()
        weight[self.rows] = self.weight.detach()[1:]
        table = nn.Embedding.from_pretrained(weight, freeze=False, padding_idx=PAD_ID)
        table.sparse = self.sparse
        return table


def piece_ids(encoded: Iterable[Iterable[Iterable[int]]]) -> torch.Tensor:
    """The sorted distinct piece ids of tokenised sentences, padding left out (its row is
    zero and never trained)."""
    ids = {piece for sentence in encoded for position in sentence for piece in position}
    ids.discard(PAD_ID)
    return torch.tensor(sorted(ids), dtype=torch.long)


@contextmanager
def training_rows(network: GruEncoder, rows: torch.Tensor) -> Iterator[TrainableRows]:
    """Swap the network's table for `TrainableRows` while the block trains it; the whole
    table, updated, is back on exit (also when the block raises)."""
    original = network.embedding
    if not isinstance(original, nn.Embedding):
        raise TypeError("the network's embedding is already being trained by rows")
    swapped = TrainableRows(original, rows.to(original.weight.device))
    network.embedding = swapped  # type: ignore[assignment]
    try:
        yield swapped
    finally:
        # On the device the block left the network on (a run ends with .cpu()).
        network.embedding = swapped.full_table().to(swapped.weight.device)


@contextmanager
def whole_table(network: GruEncoder) -> Iterator[GruEncoder]:
    """The network with its whole table in place for the block (code that reads
    `embedding.weight`, as the NumPy fast path does), its trained rows kept afterwards."""
    swapped = network.embedding
    if not isinstance(swapped, TrainableRows):
        yield network
        return
    network.embedding = swapped.full_table()  # type: ignore[assignment]
    try:
        yield network
    finally:
        network.embedding = swapped  # type: ignore[assignment]
