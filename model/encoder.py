"""The GRU sentence encoder (nn.Module) and an ensemble of them; `model.sentence_encoder` wraps
either for inference."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

# Re-exported: the config lives in a torch-free module so that serving can read it.
from model.encoder_config import EncoderConfig as EncoderConfig
from model.tokenizer import PAD_ID


class GruEncoder(nn.Module):
    """Piece ids (B, T, P) → unit sentence vectors (B, dim): embed → GRU → pool → L2."""

    def __init__(self, config: EncoderConfig) -> None:
        super().__init__()
        if config.pooling not in ("last", "mean", "max"):
            raise ValueError(f"unknown pooling {config.pooling!r}")
        if config.members != 1:
            raise ValueError("a GruEncoder is one member; build_network makes ensembles")
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim, padding_idx=PAD_ID)
        self.gru = nn.GRU(
            config.embedding_dim,
            config.hidden_size,
            num_layers=config.num_layers,
            bidirectional=config.bidirectional,
            batch_first=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, T, P) piece ids → (B, T, E): mean of each position's known pieces."""
        pieces = self.embedding(ids)  # (B, T, P, E); padding rows are zero
        if ids.shape[-1] == 1:
            return pieces.squeeze(2)
        counts = (ids != PAD_ID).sum(-1, keepdim=True).clamp_min(1)  # (B, T, 1)
        return pieces.sum(2) / counts.to(pieces.dtype)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        x = self.embed(ids)  # (B, T, E)
        if self.training and self.config.embedding_dropout > 0:
            x = F.dropout(x, self.config.embedding_dropout)
        batch, steps = ids.shape[0], ids.shape[1]
        if lengths is None or bool((lengths == steps).all()):
            # No padding (always the case for one question): skip packing, it costs time.
            out, h_n = self.gru(x)  # out (B, T, H*dirs), h_n (layers*dirs, B, H)
            mask = None
        else:
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            packed_out, h_n = self.gru(packed)
            out, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=steps)
            positions = torch.arange(steps, device=ids.device)
            mask = (positions[None, :] < lengths.to(ids.device)[:, None]).unsqueeze(-1)  # (B,T,1)
        pooled = self._pool(out, h_n, mask, batch)
        return F.normalize(pooled.float(), dim=-1)

    def _pool(
        self, out: torch.Tensor, h_n: torch.Tensor, mask: torch.Tensor | None, batch: int
    ) -> torch.Tensor:
        pooling = self.config.pooling
        if pooling == "last":
            dirs = 2 if self.config.bidirectional else 1
            # Last layer's final state per direction (backward's final state is at t=0).
            return h_n[-dirs:].transpose(0, 1).reshape(batch, -1)  # (B, H*dirs)
        if pooling == "mean":
            if mask is None:
                return out.mean(1)
            return (out * mask).sum(1) / mask.sum(1).clamp_min(1)
        if mask is None:
            return out.amax(1)
        return out.masked_fill(~mask, float("-inf")).amax(1)


class EnsembleEncoder(nn.Module):
    """`members` GruEncoders over the same pieces: (B, T, P) → (B, dim) unit vectors, the
    members' unit vectors concatenated / sqrt(members). Members make different mistakes, so
    the mean cosine ranks better than any one of them (docs/quality.md)."""

    def __init__(self, config: EncoderConfig, members: Sequence[GruEncoder] = ()) -> None:
        super().__init__()
        if config.members < 2:
            raise ValueError(f"an ensemble needs at least 2 members, got {config.members}")
        member_config = replace(config, members=1)
        if members and (
            len(members) != config.members or any(m.config != member_config for m in members)
        ):
            raise ValueError(f"ensemble members must be {config.members} x {member_config}")
        self.config = config
        built = list(members) or [GruEncoder(member_config) for _ in range(config.members)]
        self.members = nn.ModuleList(built)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        vectors = [member(ids, lengths) for member in self.members]
        return torch.cat(vectors, dim=-1) / math.sqrt(len(vectors))


EncoderNetwork = GruEncoder | EnsembleEncoder


def build_network(config: EncoderConfig) -> EncoderNetwork:
    return EnsembleEncoder(config) if config.members > 1 else GruEncoder(config)


def member_networks(network: EncoderNetwork) -> list[GruEncoder]:
    return list(network.members) if isinstance(network, EnsembleEncoder) else [network]
