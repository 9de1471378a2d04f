"""The checkpoint directory's format without torch: file names, the JSON description and the
content hash. `model.checkpoint` writes and loads checkpoints for PyTorch; the NumPy serving
encoder (`model.numpy_encoder`) reads them through this module alone.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from model.errors import CheckpointError
from model.faq_scoring import BEST_PHRASING, FaqScoring

WEIGHTS_FILE = "weights.safetensors"
META_FILE = "checkpoint.json"
FORMAT = "samesay-encoder/1"
# Tensor name of the optional (C, dim) unit class vectors; not part of the encoder network.
CLASS_WEIGHTS = "class_weights"
RETRAIN_HINT = "retrain it with `samesay train` (or point model_path at a valid checkpoint)"


def content_hash(weights: bytes, meta: dict[str, Any]) -> str:
    body = {key: value for key, value in meta.items() if key != "content_hash"}
    digest = hashlib.sha256(weights)
    digest.update(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


def read_metadata(path: Path) -> dict[str, Any]:
    """The checkpoint's JSON description (config, vocabulary, metrics), unverified."""
    meta_path = Path(path) / META_FILE
    if not Path(path).is_dir():
        raise CheckpointError(f"checkpoint directory {path} does not exist; {RETRAIN_HINT}")
    if not meta_path.is_file():
        raise CheckpointError(f"checkpoint {path} has no {META_FILE}; {RETRAIN_HINT}")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(
            f"{meta_path} is not valid JSON ({error}); {RETRAIN_HINT}"
        ) from error
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{meta_path} is not a {FORMAT} checkpoint; {RETRAIN_HINT}")
    return meta


def verify_content_hash(path: Path, meta: dict[str, Any]) -> str:
    """meta's content_hash; CheckpointError unless the weights file and `meta` hash to it."""
    weights_path = path / WEIGHTS_FILE
    if not weights_path.is_file():
        raise CheckpointError(f"checkpoint {path} has no {WEIGHTS_FILE}; {RETRAIN_HINT}")
    weights = weights_path.read_bytes()
    expected = meta.get("content_hash")
    actual = content_hash(weights, meta)
    if expected != actual:
        raise CheckpointError(
            f"checkpoint {path} fails its content hash (expected {expected}, got {actual}): "
            f"it was modified or partly written; {RETRAIN_HINT}"
        )
    return actual


def faq_scoring_of(meta: dict[str, Any]) -> FaqScoring:
    """How the checkpoint's FAQs score from their phrasings; a checkpoint written before
    model.faq_scoring (or one that does not vote) scores each by its best phrasing."""
    return FaqScoring.from_dict(meta["faq_scoring"]) if "faq_scoring" in meta else BEST_PHRASING


def inconsistent(path: Path, error: Exception) -> CheckpointError:
    """The error for a checkpoint whose parts do not fit together (raise it from `error`)."""
    return CheckpointError(f"checkpoint {path} is inconsistent ({error}); {RETRAIN_HINT}")


def check_vocabulary(path: Path, vocab_size: int, vocabulary: int) -> None:
    """CheckpointError unless the network's embedding rows match the tokenizer's vocabulary."""
    if vocab_size != vocabulary:
        raise CheckpointError(
            f"checkpoint {path}: vocab_size {vocab_size} != vocabulary {vocabulary}; "
            f"{RETRAIN_HINT}"
        )
