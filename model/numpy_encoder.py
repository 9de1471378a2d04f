"""The serving encoder: a checkpoint loaded straight into the NumPy fast path, without torch.

A serving worker only runs inference, and torch was the largest single item of its memory:
`import app.main` took 278 MB of RSS with torch on the path and 99 MB without. `NumpyEncoder`
has `SentenceEncoder`'s inference interface; bulk encoding (a rebuild, a 1,000-FAQ write)
runs length-sorted chunks through the same NumPy code, which on one thread was faster than
PyTorch's batched GRU (3,000 stored phrasings: 0.11-0.16 ms a text against 0.33-0.38 ms; the
vectors agree to 4e-7). Training and the `samesay` commands that need the network keep
`model.checkpoint.load_encoder`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from safetensors import SafetensorError, safe_open

from model.checkpoint_format import (
    CLASS_WEIGHTS,
    WEIGHTS_FILE,
    check_vocabulary,
    faq_scoring_of,
    inconsistent,
    read_metadata,
    verify_content_hash,
)
from model.encoder_config import EncoderConfig
from model.errors import TokenizerError
from model.faq_scoring import BEST_PHRASING, FaqScoring
from model.fast_path import MemberState, NumpyGru
from model.lexical import LexicalModel
from model.tokenizer import Tokenizer

# Texts per NumPy pass in `encode`: SentenceEncoder's measured crossover to PyTorch (128).
ENCODE_CHUNK = 128
_LOAD_ERRORS = (KeyError, AttributeError, TypeError, ValueError, SafetensorError, TokenizerError)


class NumpyEncoder:
    """Tokenizer + frozen NumPy GRU: texts → float32 unit vectors (SentenceEncoder's interface
    for inference: `dim`, `config`, `content_hash`, `lexical`, `encode*`)."""

    def __init__(
        self,
        config: EncoderConfig,
        states: Sequence[MemberState],
        tokenizer: Tokenizer,
        content_hash: str,
        lexical: LexicalModel | None = None,
        faq_scoring: FaqScoring = BEST_PHRASING,
    ) -> None:
        self.config = config
        self.dim: int = config.dim
        self.tokenizer = tokenizer
        self.content_hash = content_hash
        # The TF-IDF half of the fused score (model.lexical); None: scores are cosines.
        self.lexical = lexical
        # How an FAQ's score comes from its phrasings' (model.faq_scoring).
        self.faq_scoring = faq_scoring
        self._fast = NumpyGru(config, states)

    def encode(self, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
        """float32 (n, dim), unit rows. Texts go through in length-sorted chunks of
        ENCODE_CHUNK (`batch_size` is accepted for SentenceEncoder's signature)."""
        positions, read = self.tokenizer.encode_read_many(texts)
        result = np.zeros((len(positions), self.dim), dtype=np.float32)
        order = np.argsort([len(p) for p in positions], kind="stable")
        for start in range(0, len(order), ENCODE_CHUNK):
            rows = order[start : start + ENCODE_CHUNK]
            result[rows] = self._fast.encode_many([positions[i] for i in rows])
        result[~read] = 0.0
        return result

    def encode_one(self, text: str) -> np.ndarray:
        """float32 (dim,) unit vector for one question: the service's hot path (zero for a
        text with no known word: Tokenizer.unread)."""
        positions, read = self.tokenizer.encode_read(text)
        return self._fast(positions) if read else np.zeros(self.dim, dtype=np.float32)

    def encode_many(self, texts: Sequence[str]) -> np.ndarray:
        """float32 (n, dim) unit rows for a few texts, in one NumPy pass."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        positions, read = self.tokenizer.encode_read_many(texts)
        result = self._fast.encode_many(positions)
        result[~read] = 0.0
        return result


def load_numpy_encoder(path: Path) -> NumpyEncoder:
    """Verify and load a checkpoint directory (as `model.checkpoint.load_encoder` does) into a
    `NumpyEncoder`; raises CheckpointError saying what is wrong and what to run."""
    path = Path(path)
    meta = read_metadata(path)
    content_hash = verify_content_hash(path, meta)
    try:
        config = EncoderConfig.from_dict(meta["encoder"])
        tokenizer = Tokenizer.from_dict(meta["tokenizer"])
        states = _member_states(path / WEIGHTS_FILE, config)
        lexical = LexicalModel.from_dict(meta["lexical"]) if "lexical" in meta else None
        encoder = NumpyEncoder(
            config, states, tokenizer, content_hash, lexical, faq_scoring_of(meta)
        )
    except _LOAD_ERRORS as error:
        raise inconsistent(path, error) from error
    check_vocabulary(path, config.vocab_size, len(tokenizer))
    return encoder


def _member_states(weights_path: Path, config: EncoderConfig) -> list[MemberState]:
    """Each member's float32 tensors by GruEncoder name: an EnsembleEncoder's state names
    them `members.<i>.<name>`. Half-precision files are widened (exactly) as torch does."""
    states: list[MemberState] = [{} for _ in range(config.members)]
    with safe_open(str(weights_path), framework="np") as handle:
        for name in handle.keys():
            if name == CLASS_WEIGHTS:  # the classifier is not part of the encoder
                continue
            member, key = 0, name
            if config.members > 1:
                _, number, key = name.split(".", 2)
                member = int(number)
            states[member][key] = handle.get_tensor(name).astype(np.float32, copy=False)
    expected = (config.vocab_size, config.embedding_dim)
    for state in states:
        if state["embedding.weight"].shape != expected:
            raise ValueError(f"embedding shape {state['embedding.weight'].shape} != {expected}")
    return states
