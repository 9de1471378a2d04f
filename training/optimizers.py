"""The optimizers every training loop here uses: sparse Adam for the embedding table, AdamW
for the rest."""

from __future__ import annotations

import torch

from model.encoder import GruEncoder


def build_optimizers(
    network: GruEncoder,
    heads: torch.nn.Module,
    learning_rate: float,
    weight_decay: float,
    sparse_embeddings: bool = True,
) -> list[torch.optim.Optimizer]:
    """AdamW for the GRU and the training heads; with sparse_embeddings, lazy (sparse) Adam
    for the embedding table, which then updates only the rows a batch used (no weight decay
    there)."""
    dense = [p for name, p in network.named_parameters() if not name.startswith("embedding.")]
    dense += list(heads.parameters())
    optimizers: list[torch.optim.Optimizer] = []
    if sparse_embeddings:
        network.embedding.sparse = True
        optimizers.append(torch.optim.SparseAdam(network.embedding.parameters(), lr=learning_rate))
    else:
        dense += list(network.embedding.parameters())
    optimizers.append(torch.optim.AdamW(dense, lr=learning_rate, weight_decay=weight_decay))
    return optimizers
