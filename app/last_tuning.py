"""The last threshold tuning (its whole curve), kept so the console can draw it later.

Kept as a store setting, so every worker and replica sees the same one; before any
POST /admin/threshold/tune the first start's demo tuning (a file in the data directory,
written by app.bootstrap) stands in.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from store.faq_store import FaqStore
from training.threshold import ThresholdChoice

SETTING_KEY = "last_tuning"
# app.bootstrap writes it; named here too so this module does not import the bootstrap.
FIRST_START_FILE = "threshold_tuning.json"
logger = logging.getLogger("samesay.app")


def save_last_tuning(store: FaqStore, choice: ThresholdChoice, threshold: float,
                     source: str) -> None:
    curve = choice.curve
    store.set_setting(
        SETTING_KEY,
        {
            "threshold": threshold,
            "objective": choice.objective,
            "target": choice.target,
            "metrics": choice.metrics,
            "curve": curve.rows(),
            "n_examples": curve.n_examples,
            "n_in_scope": curve.n_in_scope,
            "n_out_of_scope": curve.n_out_of_scope,
            "source": source,
            "tuned_at": datetime.now(UTC).isoformat(),
        },
    )


def load_last_tuning(store: FaqStore, data_dir: Path) -> dict[str, Any] | None:
    """The stored record, else the first start's file in its shape, else None."""
    stored = store.get_setting(SETTING_KEY)
    if isinstance(stored, dict):
        return stored
    path = data_dir / FIRST_START_FILE
    try:
        first = json.loads(path.read_text(encoding="utf-8"))
        return {
            "threshold": first["threshold"],
            "objective": first["objective"],
            "target": first.get("target"),
            "metrics": first["metrics"]["all"],
            "curve": first["curve"],
            "n_examples": first["examples"],
            "n_in_scope": None,
            "n_out_of_scope": None,
            "source": "demo held-out and unanswerable questions (first start)",
            "tuned_at": datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(),
        }
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        logger.warning("ignoring an unreadable %s", path, exc_info=True)
        return None
