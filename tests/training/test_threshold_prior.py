"""A base's threshold prior: found by the base's content hash, and a floor under the
threshold a rehearsal learns for the base's fine-tunes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import training.rehearsal
from model.base_model import shipped_base_path
from model.checkpoint_format import META_FILE, read_metadata
from training.augment import AugmentConfig
from training.recipes import FaqRecipe, scratch_train_config
from training.rehearsal import Rehearsal, RehearsalConfig, rehearse_threshold
from training.threshold_prior import SHIPPED_BASE_PRIOR, ThresholdPrior, threshold_floor


def test_the_shipped_base_has_a_measured_prior() -> None:
    # A new base fails here until its prior is measured (training.threshold_prior).
    base = shipped_base_path()
    assert base is not None
    assert threshold_floor(base) == SHIPPED_BASE_PRIOR.threshold


def test_scratch_models_and_unknown_bases_get_no_floor(
    tiny_encoder_path: Path, tmp_path: Path
) -> None:
    assert threshold_floor(None) is None
    assert threshold_floor("") is None
    assert threshold_floor(tiny_encoder_path) is None
    assert threshold_floor(tmp_path / "missing") is None
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / META_FILE).write_text("{not json", encoding="utf-8")
    assert threshold_floor(broken) is None


def test_a_prior_is_found_by_its_bases_content_hash(tiny_encoder_path: Path) -> None:
    content_hash = read_metadata(tiny_encoder_path)["content_hash"]
    mine = ThresholdPrior(content_hash, 0.5, "a test")
    assert threshold_floor(tiny_encoder_path, (SHIPPED_BASE_PRIOR, mine)) == 0.5
    other = ThresholdPrior(content_hash[::-1], 0.6, "another base")
    assert threshold_floor(tiny_encoder_path, (other,)) is None


def _faqs() -> list[list[str]]:
    topics = ["refund", "password", "shipping", "invoice", "warranty", "delivery"]
    return [
        [f"how do i get a {t}", f"question about {t}", f"help with {t} please", f"{t} issue"]
        for t in topics
    ] + [
        [f"where is the {t} page", f"{t} page link", f"open the {t} page", f"find {t} page"]
        for t in topics
    ]


@pytest.fixture(scope="module")
def tiny_recipe() -> FaqRecipe:
    tiny = replace(
        scratch_train_config(),
        encoder=replace(scratch_train_config().encoder, embedding_dim=16, hidden_size=16),
        epochs=2,
        min_steps=0,
        device="cpu",
        num_threads=1,
    )
    return FaqRecipe(train=tiny, augment=AugmentConfig(copies=1))


def _rehearse(recipe: FaqRecipe, floor_at_base_prior: bool = True) -> Rehearsal:
    # A low precision target answers nearly everything: room for a floor above it.
    config = RehearsalConfig(floor_at_base_prior=floor_at_base_prior)
    rehearsal = rehearse_threshold(_faqs(), recipe, "precision", 0.05, config, progress=False)
    assert rehearsal is not None
    return rehearsal


@pytest.fixture(scope="module")
def unfloored(tiny_recipe: FaqRecipe) -> Rehearsal:
    rehearsal = _rehearse(tiny_recipe, floor_at_base_prior=False)
    assert rehearsal.floor is None and not rehearsal.floored
    return rehearsal


def test_a_rehearsed_threshold_below_the_prior_is_raised_to_it(
    tiny_recipe: FaqRecipe, unfloored: Rehearsal, monkeypatch: pytest.MonkeyPatch
) -> None:
    curve = unfloored.choice.curve
    floor = float(np.median(curve.thresholds))
    assert unfloored.rehearsed < floor
    # The lookup alone is replaced: the tiny recipe starts from no base with a prior.
    monkeypatch.setattr(training.rehearsal, "threshold_floor", lambda init_from: floor)
    rehearsal = _rehearse(tiny_recipe)
    assert rehearsal.rehearsed == unfloored.rehearsed  # the same seeded rehearsal
    assert rehearsal.floored and rehearsal.floor == rehearsal.choice.threshold == floor
    # Its metrics are those at the floor: the rates of a candidate next to it on the curve.
    above = int(np.searchsorted(curve.thresholds, floor))
    assert rehearsal.choice.metrics in (curve.metrics_at(above - 1), curve.metrics_at(above))
    assert rehearsal.choice.metrics["coverage"] < unfloored.choice.metrics["coverage"]


def test_a_rehearsed_threshold_above_the_prior_is_kept(
    tiny_recipe: FaqRecipe, unfloored: Rehearsal, monkeypatch: pytest.MonkeyPatch
) -> None:
    floor = unfloored.rehearsed - 0.1
    monkeypatch.setattr(training.rehearsal, "threshold_floor", lambda init_from: floor)
    rehearsal = _rehearse(tiny_recipe)
    assert rehearsal.floor == floor and not rehearsal.floored
    assert rehearsal.choice.threshold == unfloored.rehearsed
    assert rehearsal.choice.metrics == unfloored.choice.metrics
