"""`SentenceEncoder`: a trained network and its tokenizer in eval mode, texts → unit vectors.

The inference wrapper every other package uses; `encode_one` is the service's hot path.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from model.encoder import EncoderConfig, EncoderNetwork, member_networks
from model.faq_scoring import BEST_PHRASING, FaqScoring
from model.fast_path import NumpyGru
from model.lexical import LexicalModel
from model.tokenizer import Tokenizer

# `SentenceEncoder.encode` hands batches up to this size to the NumPy fast path (measured).
FAST_PATH_MAX_TEXTS = 128


class SentenceEncoder:
    """Tokenizer + network in eval mode: texts → float32 unit vectors."""

    def __init__(
        self,
        network: EncoderNetwork,
        tokenizer: Tokenizer,
        content_hash: str,
        lexical: LexicalModel | None = None,
        faq_scoring: FaqScoring = BEST_PHRASING,
    ) -> None:
        self.network = network.eval()
        # The TF-IDF half of the fused score (model.lexical); None: scores are cosines.
        self.lexical = lexical
        # How an FAQ's score comes from its phrasings' (model.faq_scoring).
        self.faq_scoring = faq_scoring
        self.tokenizer = tokenizer
        self.content_hash = content_hash
        self.config: EncoderConfig = network.config
        self.dim: int = network.config.dim
        self._device = next(network.parameters()).device
        self._fast: NumpyGru | None = None  # built on the first encode_one

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
        result[~self.tokenizer.encode_read_many(texts)[1]] = 0.0
        return result

    def encode_one(self, text: str) -> np.ndarray:
        """float32 (dim,) unit vector for one question: the service's hot path (zero for a
        text with no known word: Tokenizer.unread)."""
        # Cached per word: no n-gram work on repeats.
        positions, read = self.tokenizer.encode_read(text)
        return self._fast_path()(positions) if read else np.zeros(self.dim, dtype=np.float32)

    def encode_many(self, texts: Sequence[str]) -> np.ndarray:
        """float32 (n, dim) unit rows for a few texts (an FAQ write's phrasings): one NumPy
        pass, cheaper than n `encode_one` calls. `encode` picks it up to 128 texts and
        PyTorch beyond, where PyTorch's batched GRU is faster."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        positions, read = self.tokenizer.encode_read_many(texts)
        result = self._fast_path().encode_many(positions)
        result[~read] = 0.0
        return result

    def _fast_path(self) -> NumpyGru:
        if self._fast is None:
            # Views of the network's float32 tensors (no copy), extracted once on first use.
            states = [
                {k: v.detach().float().cpu().numpy() for k, v in m.state_dict().items()}
                for m in member_networks(self.network)
            ]
            self._fast = NumpyGru(self.config, states)
        return self._fast
