"""Retrained checkpoints do not pile up: what no worker serves or falls back to goes."""

from __future__ import annotations

import os
import time
from pathlib import Path

from app.config import Settings
from app.model_files import PRUNE_MIN_AGE_S, SCRATCH_MAX_AGE_S, models_dir, prune_checkpoints
from model.checkpoint_format import META_FILE


def _checkpoint(root: Path, name: str, age_s: float, meta: bool = True) -> Path:
    path = root / name
    path.mkdir(parents=True)
    (path / "weights.safetensors").write_bytes(b"0" * 64)
    if meta:
        (path / META_FILE).write_text("{}")
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp))
    return path


def test_only_old_checkpoints_nobody_serves_and_dead_scratch_go(tmp_path) -> None:
    root = tmp_path / "models"
    configured = root / "hand-picked"  # SAMESAY_MODEL_PATH pointing into models/
    settings = Settings(data_dir=tmp_path, model_path=configured, _env_file=None)
    assert models_dir(settings) == root
    old = PRUNE_MIN_AGE_S + 60
    _checkpoint(root, configured.name, old)
    active = _checkpoint(root, "a" * 64, old)
    replaced = _checkpoint(root, "b" * 64, old)
    stale = _checkpoint(root, "c" * 64, old)
    fresh = _checkpoint(root, "d" * 64, 60)  # another worker's, not yet active
    foreign = _checkpoint(root, "notes", old, meta=False)  # not a checkpoint we wrote
    dead_run = _checkpoint(root, ".training-1", SCRATCH_MAX_AGE_S + 60, meta=False)
    live_run = _checkpoint(root, ".training-2", 60, meta=False)

    removed = prune_checkpoints(settings, {active.name, replaced.name})

    assert sorted(removed) == sorted([stale, dead_run])
    assert all(p.exists() for p in (active, replaced, fresh, foreign, live_run, configured))
    assert not stale.exists() and not dead_run.exists()


def test_no_models_directory_is_nothing_to_prune(tmp_path) -> None:
    assert prune_checkpoints(Settings(data_dir=tmp_path, _env_file=None), set()) == []
