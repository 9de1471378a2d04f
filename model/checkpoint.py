"""Self-describing checkpoint directories: safetensors weights + one JSON description.

Layout of a checkpoint directory:
    weights.safetensors   the encoder's tensors (no pickle: safe to load from anywhere), plus
                          optionally the trained classifier's unit class vectors
                          (`class_weights`, one row per training group: `load_class_weights`)
    checkpoint.json       format, encoder config, tokenizer vocabulary, training metrics,
                          optionally the lexical model (IDF table and fusion weights,
                          model.lexical), optionally how an FAQ's score comes from its
                          phrasings' (model.faq_scoring; absent: the best phrasing's), and
                          `content_hash` = sha256 over the weights file
                          and the rest of the JSON

Loading needs nothing else, and a changed byte anywhere is caught by the hash.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from model.checkpoint_format import (
    CLASS_WEIGHTS,
    FORMAT,
    META_FILE,
    RETRAIN_HINT,
    WEIGHTS_FILE,
    check_vocabulary,
    content_hash,
    faq_scoring_of,
    inconsistent,
    read_metadata,
    verify_content_hash,
)
from model.encoder import EncoderConfig, EncoderNetwork, build_network
from model.errors import CheckpointError, TokenizerError
from model.faq_scoring import BEST_PHRASING, FaqScoring
from model.lexical import LexicalModel
from model.sentence_encoder import SentenceEncoder
from model.tokenizer import Tokenizer

# What a corrupt-but-hash-valid description can raise while the network is rebuilt.
_LOAD_ERRORS = (
    KeyError, AttributeError, TypeError, ValueError, RuntimeError, SafetensorError, TokenizerError
)


def save_checkpoint(
    network: EncoderNetwork,
    tokenizer: Tokenizer,
    out_dir: Path,
    metrics: dict[str, Any] | None = None,
    class_weights: torch.Tensor | None = None,
    half_precision: bool = False,
    lexical: LexicalModel | None = None,
    faq_scoring: FaqScoring = BEST_PHRASING,
) -> str:
    """Write `out_dir` (created if needed) and return its content hash.

    `class_weights` (C, dim): the classifier's class vectors, kept so that a closed set of the
    training groups can be scored against them (see `load_class_weights`).
    `half_precision` stores the network's tensors as float16 (half the file: the shipped base
    model); loading converts them back to float32, which is what the encoder computes in.
    `lexical`: the fitted TF-IDF half of the fused score (None: scores are plain cosines).
    `faq_scoring`: written only when it votes, so that other checkpoints keep their bytes.

    Files are written to temporaries and renamed, so a crash never leaves a half checkpoint
    that looks valid (the hash would catch it anyway).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dtype = torch.float16 if half_precision else torch.float32
    tensors = {
        name: t.detach().to(dtype).cpu().contiguous() for name, t in network.state_dict().items()
    }
    if class_weights is not None:
        unit = torch.nn.functional.normalize(class_weights.detach().float().cpu(), dim=-1)
        tensors[CLASS_WEIGHTS] = unit.contiguous()  # (C, dim)
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        tmp_weights = Path(tmp) / WEIGHTS_FILE
        save_file(tensors, str(tmp_weights))
        weights = tmp_weights.read_bytes()
        meta: dict[str, Any] = {
            "format": FORMAT,
            "encoder": network.config.to_dict(),
            "tokenizer": tokenizer.to_dict(),
            "training": metrics or {},
        }
        if lexical is not None:
            meta["lexical"] = lexical.to_dict()
        if faq_scoring.votes:
            meta["faq_scoring"] = faq_scoring.to_dict()
        meta["content_hash"] = content_hash(weights, meta)
        tmp_meta = Path(tmp) / META_FILE
        tmp_meta.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp_weights, out_dir / WEIGHTS_FILE)
        os.replace(tmp_meta, out_dir / META_FILE)
    return meta["content_hash"]


def load_encoder(path: Path, device: str | torch.device = "cpu") -> SentenceEncoder:
    """Verify and load a checkpoint directory into an eval-mode `SentenceEncoder`."""
    path = Path(path)
    meta = read_metadata(path)
    expected = verify_content_hash(path, meta)
    weights_path = path / WEIGHTS_FILE
    try:
        config = EncoderConfig.from_dict(meta["encoder"])
        tokenizer = Tokenizer.from_dict(meta["tokenizer"])
        network = build_network(config)
        state = load_file(str(weights_path))
        state.pop(CLASS_WEIGHTS, None)  # the classifier is not part of the encoder
        state = {name: t.float() for name, t in state.items()}  # half-precision files
        network.load_state_dict(state)
        lexical = LexicalModel.from_dict(meta["lexical"]) if "lexical" in meta else None
        faq_scoring = faq_scoring_of(meta)
    except _LOAD_ERRORS as error:
        raise inconsistent(path, error) from error
    check_vocabulary(path, config.vocab_size, len(tokenizer))
    return SentenceEncoder(network.to(device), tokenizer, expected, lexical, faq_scoring)


def load_class_weights(path: Path) -> np.ndarray | None:
    """The checkpoint's unit class vectors (C, dim) float32, or None when it has none.

    Row i is the training run's class i; `read_metadata(path)["training"]["class_groups"]`
    maps it to the index of the group in the list given to the trainer. Call after
    `load_encoder` (which verifies the content hash) on the same directory.
    """
    weights_path = Path(path) / WEIGHTS_FILE
    if not weights_path.is_file():
        raise CheckpointError(f"checkpoint {path} has no {WEIGHTS_FILE}; {RETRAIN_HINT}")
    try:
        with safe_open(str(weights_path), framework="np") as handle:
            if CLASS_WEIGHTS not in handle.keys():
                return None
            return np.asarray(handle.get_tensor(CLASS_WEIGHTS), dtype=np.float32)
    except SafetensorError as error:
        raise CheckpointError(f"checkpoint {path}: unreadable weights ({error})") from error
