"""The shipped base encoder: a checkpoint directory installed as package data (model/base/).

It is trained offline by `samesay train --recipe base` (training.base_recipe) and committed
with its model card (model/base/MODEL_CARD.md: sources, licences, recipe, hash). Every FAQ
set is fine-tuned from it; nothing is downloaded at run time.
"""

from __future__ import annotations

from pathlib import Path

from model.checkpoint import META_FILE, WEIGHTS_FILE

BASE_DIR = Path(__file__).resolve().parent / "base"
MODEL_CARD = BASE_DIR / "MODEL_CARD.md"


def shipped_base_path() -> Path | None:
    """The base checkpoint directory, or None in a checkout built without it."""
    if (BASE_DIR / META_FILE).is_file() and (BASE_DIR / WEIGHTS_FILE).is_file():
        return BASE_DIR
    return None
