"""The encoder's architecture as a dataclass, apart from its torch modules (`model.encoder`), so
that the NumPy serving path reads a checkpoint without importing torch."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from model.tokenizer import TokenizerConfig

Pooling = Literal["last", "mean", "max"]


@dataclass(frozen=True)
class EncoderConfig:
    # Filled from the tokenizer at build time (0 = not yet, as in a training recipe); the
    # embedding table has one row per piece.
    vocab_size: int = 0
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
