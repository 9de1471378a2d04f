"""Which encoder checkpoint a worker serves, and where retrained checkpoints live.

Retrained checkpoints are stored as `<data_dir>/models/<content hash>/`, and the store's
`active_model` setting names the hash, so every worker sharing the data directory and the
database serves the same model. `Settings.model_path` is the initial model: it serves until
a retrain records an active model (or when that checkpoint is not found locally).
"""

from __future__ import annotations

import logging
from pathlib import Path

from app.config import Settings
from model.checkpoint import load_encoder
from model.sentence_encoder import SentenceEncoder
from store.faq_store import FaqStore

logger = logging.getLogger("samesay.app")


def models_dir(settings: Settings) -> Path:
    return settings.data_dir / "models"


def checkpoint_dir(settings: Settings, content_hash: str) -> Path:
    return models_dir(settings) / content_hash


def model_version(encoder: object) -> str:
    """Short, stable model name for responses and metrics: the checkpoint hash prefix."""
    return str(getattr(encoder, "content_hash", "unknown"))[:12]


def load_active_encoder(settings: Settings, content_hash: str) -> SentenceEncoder | None:
    """The retrained checkpoint named by the store, or None when it is not on this machine."""
    path = checkpoint_dir(settings, content_hash)
    if not path.is_dir():
        logger.warning(
            "the store's active model %s is not in %s; keep serving the current model",
            content_hash[:12],
            models_dir(settings),
        )
        return None
    return load_encoder(path)


def load_serving_encoder(settings: Settings, store: FaqStore) -> SentenceEncoder:
    """The store's active model when present locally, else Settings' model path.

    Raises model.errors.CheckpointError (its message says what to run) when neither loads.
    """
    active = store.get_active_model()
    if active:
        encoder = load_active_encoder(settings, active)
        if encoder is not None:
            return encoder
    return load_encoder(settings.resolved_model_path)
