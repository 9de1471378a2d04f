"""Which encoder checkpoint a worker serves, and where retrained checkpoints live.

Retrained checkpoints are stored as `<data_dir>/models/<content hash>/`, and the store's
`active_model` setting names the hash, so every worker sharing the data directory and the
database serves the same model. `Settings.model_path` is the initial model: it serves until
a retrain records an active model (or when that checkpoint is not found locally).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from app.config import Settings
from index.searcher import Encoder
from model.checkpoint_format import META_FILE
from model.numpy_encoder import load_numpy_encoder
from store.faq_store import FaqStore

logger = logging.getLogger("samesay.app")


def models_dir(settings: Settings) -> Path:
    return settings.data_dir / "models"


def checkpoint_dir(settings: Settings, content_hash: str) -> Path:
    return models_dir(settings) / content_hash


def model_version(encoder: object) -> str:
    """Short, stable model name for responses and metrics: the checkpoint hash prefix."""
    return str(getattr(encoder, "content_hash", "unknown"))[:12]


# Checkpoint directory → encoder. Workers serve `load_numpy_encoder` (no torch); first start
# tunes the threshold with `model.checkpoint.load_encoder`, in the process that trained.
Loader = Callable[[Path], Encoder]


def load_active_encoder(
    settings: Settings, content_hash: str, loader: Loader = load_numpy_encoder
) -> Encoder | None:
    """The retrained checkpoint named by the store, or None when it is not on this machine."""
    path = checkpoint_dir(settings, content_hash)
    if not path.is_dir():
        logger.warning(
            "the store's active model %s is not in %s; keep serving the current model",
            content_hash[:12],
            models_dir(settings),
        )
        return None
    return loader(path)


def load_serving_encoder(
    settings: Settings, store: FaqStore, loader: Loader = load_numpy_encoder
) -> Encoder:
    """The store's active model when present locally, else Settings' model path.

    Raises model.errors.CheckpointError (its message says what to run) when neither loads.
    """
    active = store.get_active_model()
    if active:
        encoder = load_active_encoder(settings, active, loader)
        if encoder is not None:
            return encoder
    return loader(settings.resolved_model_path)


# A checkpoint younger than this is never pruned: another worker sharing the data directory
# may have just trained it and not yet named it active (retrains are per worker).
PRUNE_MIN_AGE_S = 3600.0
# A `.training-*` scratch directory this old belongs to a run that died (kill -9): the
# largest set measured trains in minutes.
SCRATCH_MAX_AGE_S = 24 * 3600.0


def prune_checkpoints(
    settings: Settings, keep: set[str], now: float | None = None
) -> list[Path]:
    """Delete the retrained checkpoints no worker serves or falls back to: every one but
    `keep` (the active model and the one it replaced) and the configured model path, older
    than PRUNE_MIN_AGE_S, and scratch directories of dead runs. Each retrain adds one
    (~35-50 MB with the shipped base); without this they pile up for as long as the service
    lives. Returns what went."""
    root = models_dir(settings)
    now = time.time() if now is None else now
    try:
        paths = list(root.iterdir())
    except OSError:  # a convenience: never fail the retrain that called it
        return []
    configured = settings.resolved_model_path.resolve()  # SAMESAY_MODEL_PATH may point here
    removed = []
    for path in paths:
        try:
            age = now - path.stat().st_mtime
        except OSError:  # removed meanwhile
            continue
        if not path.is_dir() or path.is_symlink():
            continue
        scratch = path.name.startswith(".")
        kept = path.name in keep or path.resolve() == configured
        if kept or (scratch and age < SCRATCH_MAX_AGE_S):
            continue
        if not scratch and (age < PRUNE_MIN_AGE_S or not (path / META_FILE).is_file()):
            continue  # too fresh, or not a checkpoint this code wrote: left alone
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    if removed:
        logger.info("pruned %d old checkpoint(s) from %s", len(removed), root)
    return removed
