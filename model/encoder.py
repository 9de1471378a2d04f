"""The GRU sentence encoder (nn.Module), an ensemble of them, and `SentenceEncoder`, the
inference wrapper of either."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from model.tokenizer import PAD_ID, Tokenizer, TokenizerConfig

Pooling = Literal["last", "mean", "max"]
# `SentenceEncoder.encode` hands batches up to this size to the NumPy fast path (measured).
FAST_PATH_MAX_TEXTS = 128


@dataclass(frozen=True)
class EncoderConfig:
    # Filled from the tokenizer at build time; the embedding table has one row per piece.
    vocab_size: int
    # 128 as in the reference design: enough for FAQ phrasing, fast on one CPU thread.
    embedding_dim: int = 128
    hidden_size: int = 128
    num_layers: int = 1
    # Reading both ways lets max/mean pooling see each word in its full context (+4 pts top-1).
    bidirectional: bool = True
    # max pooling keeps the strongest evidence per feature; best measured on unseen intents.
    pooling: Pooling = "max"
    # Between GRU layers only (PyTorch semantics); measured not to help at these sizes.
    dropout: float = 0.0
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    # Dropout on the piece embeddings while training (regularises a model that fits its
    # training set); inference never drops anything.
    embedding_dropout: float = 0.0
    # Independently trained copies of this network (same vocabulary, other seeds); a text's
    # vector is their unit vectors concatenated and divided by sqrt(members), so a cosine is
    # the members' mean cosine. 1 = a single network.
    members: int = 1

    @property
    def member_dim(self) -> int:
        return self.hidden_size * (2 if self.bidirectional else 1)

    @property
    def dim(self) -> int:
        return self.member_dim * self.members

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> EncoderConfig:
        data = dict(data)
        data["tokenizer"] = TokenizerConfig(**data.get("tokenizer", {}))
        return cls(**data)


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


class SentenceEncoder:
    """Tokenizer + network in eval mode: texts → float32 unit vectors."""

    def __init__(self, network: EncoderNetwork, tokenizer: Tokenizer, content_hash: str) -> None:
        self.network = network.eval()
        self.tokenizer = tokenizer
        self.content_hash = content_hash
        self.config: EncoderConfig = network.config
        self.dim: int = network.config.dim
        self._device = next(network.parameters()).device
        self._fast = None  # NumpyGru, built on the first encode_one

    def encode(self, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
        """float32 (n, dim), unit rows; batches are length-sorted to minimise padding.

        Up to FAST_PATH_MAX_TEXTS texts (an FAQ write's phrasings) take the NumPy path: on one
        thread 3 texts cost 0.24 ms each there against 0.47 ms in PyTorch, 128 texts 0.27 vs
        0.39 ms; from ~512 on PyTorch's batched GRU is faster (0.29 vs 0.36 ms).
        """
        texts = list(texts)
        if len(texts) <= FAST_PATH_MAX_TEXTS and self._device.type == "cpu":
            return self.encode_many(texts)  # also the empty case
        result = np.zeros((len(texts), self.dim), dtype=np.float32)
        encoded_lengths = [len(self.tokenizer.split(t)) for t in texts]
        order = np.argsort(encoded_lengths, kind="stable")
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                rows = order[start : start + batch_size]
                ids, lengths = self.tokenizer.batch([texts[i] for i in rows])
                vectors = self.network(
                    torch.from_numpy(ids).to(self._device), torch.from_numpy(lengths)
                )
                result[rows] = vectors.float().cpu().numpy()
        return result

    def encode_one(self, text: str) -> np.ndarray:
        """float32 (dim,) unit vector for one question: the service's hot path."""
        positions = self.tokenizer.encode(text)  # cached per word: no n-gram work on repeats
        return self._fast_path()(positions)

    def encode_many(self, texts: Sequence[str]) -> np.ndarray:
        """float32 (n, dim) unit rows for a few texts (an FAQ write's phrasings): one NumPy
        pass, cheaper than n `encode_one` calls. `encode` picks it up to 128 texts and
        PyTorch beyond, where PyTorch's batched GRU is faster."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._fast_path().encode_many([self.tokenizer.encode(t) for t in texts])

    def _fast_path(self):  # -> NumpyGru (not annotated: fast_path imports this module)
        if self._fast is None:
            from model.fast_path import NumpyGru

            self._fast = NumpyGru(self.network)  # weights copied once, on first use
        return self._fast
