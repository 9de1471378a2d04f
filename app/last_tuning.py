"""The last threshold tuning (its whole curve), kept so the console can draw it later.

Kept as a store setting, so every worker and replica sees the same one; before any
POST /admin/threshold/tune the first start's tuning (the demo's, or a rehearsal on the
store's own FAQs: a file in the data directory, written by app.bootstrap) stands in.
"""

from __future__ import annotations

import json
import logging
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.config import Settings
from store.faq_store import FaqStore
from training.threshold import ThresholdChoice

SETTING_KEY = "last_tuning"
# app.bootstrap writes it; named here too so this module does not import the bootstrap.
FIRST_START_FILE = "threshold_tuning.json"
DEMO_SOURCE = "demo held-out and unanswerable questions"
# training.rehearsal, at the first start or at a retrain.
REHEARSAL_SOURCE = "rehearsal questions on the store's own FAQs"
# The threshold the service last learned by itself (the first start's tuning on the demo, or
# a rehearsal). Kept apart from the last tuning, which a tuning that is only looked at
# (apply=false) replaces while the threshold in force stays.
LEARNED_KEY = "learned_threshold"
# The same marker as the version that learned thresholds by rehearsal only wrote it.
_REHEARSED_KEY = "rehearsed_threshold"
logger = logging.getLogger("samesay.app")


def floor_note(raised_from: float | None) -> str:
    """What the first start and a retrain add to the threshold they report when the base's
    prior raised a rehearsed one (training.threshold_prior); empty otherwise."""
    if raised_from is None:
        return ""
    return (
        f" (the rehearsal alone chose {raised_from:.3f}; raised to the base model's prior: "
        "rehearsals at few phrasings per FAQ answer too readily)"
    )


def save_last_tuning(
    store: FaqStore, choice: ThresholdChoice, threshold: float, source: str
) -> None:
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
            "n_in_scope": first.get("in_scope"),
            "n_out_of_scope": first.get("out_of_scope"),
            # Files written before the rehearsal existed came from the demo only.
            "source": first.get("source", DEMO_SOURCE),
            "tuned_at": datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(),
        }
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        logger.warning("ignoring an unreadable %s", path, exc_info=True)
        return None


def operator_chose_threshold(settings: Settings) -> bool:
    """SAMESAY_DEFAULT_THRESHOLD was set: the default is then a choice, not a placeholder."""
    return "default_threshold" in settings.model_fields_set


def mark_learned(store: FaqStore, threshold: float) -> None:
    """Note that the stored threshold was learned by the service itself (set it first):
    while the store keeps that value, nobody has chosen another."""
    store.set_setting(LEARNED_KEY, threshold)


def threshold_may_be_relearned(store: FaqStore, settings: Settings) -> bool:
    """Whether a retrain may replace the threshold in force with one learned for its new
    model: nobody chose it (none is stored, or the stored one is still the one the service
    learned itself, for the model being replaced). A tuned (and applied) or hand-set
    threshold is left alone, and so is SAMESAY_DEFAULT_THRESHOLD when it is set."""
    if operator_chose_threshold(settings):
        return False
    stored = store.get_threshold()
    if stored is None:
        return True
    learned = (
        store.get_setting(LEARNED_KEY),
        store.get_setting(_REHEARSED_KEY),
        # Data directories first started before the marker: the first start's own record.
        _first_start_threshold(settings.data_dir),
    )
    return any(
        isinstance(value, int | float) and math.isclose(value, stored, abs_tol=1e-9)
        for value in learned
    )


def _first_start_threshold(data_dir: Path) -> object:
    try:
        return json.loads((data_dir / FIRST_START_FILE).read_text(encoding="utf-8"))["threshold"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
