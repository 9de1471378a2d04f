"""The base served beside its fine-tuned copy: the companion reads as the base did, the saved
model is a two-member ensemble, and the recipe turns it on for few-phrasing FAQ sets only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model.checkpoint import load_class_weights, load_encoder
from model.encoder import member_networks
from model.sentence_encoder import SentenceEncoder
from tests.fixtures.model_fixtures import tiny_train_config
from training.errors import TrainingError
from training.recipes import FaqRecipe, fine_tune_train_config, scratch_train_config
from training.trainer import train_encoder

GROUPS = [
    ["zorblax gift card balance", "check my zorblax card balance"],
    ["zorblax gift card expiry", "when does my zorblax card expire"],
    ["how do i reset my password", "forgot my password"],
]


@pytest.fixture(scope="module")
def base_path(tmp_path_factory: pytest.TempPathFactory, fixture_groups) -> Path:
    """A one-network base (the shipped base is one biGRU), trained on the fixture groups."""
    out = tmp_path_factory.mktemp("one_network_base") / "model"
    config = tiny_train_config(members=1, epochs=10)
    return train_encoder(list(fixture_groups.values()), out, config, progress=False)


@pytest.fixture(scope="module")
def base(base_path: Path) -> SentenceEncoder:
    return load_encoder(base_path)


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory, base_path: Path) -> Path:
    config = tiny_train_config(members=1, epochs=3, init_from=str(base_path), keep_base=True)
    out = tmp_path_factory.mktemp("keep_base") / "model"
    return train_encoder(GROUPS, out, config, progress=False)


def test_the_model_is_the_fine_tune_and_the_base_side_by_side(
    kept: Path, base: SentenceEncoder
) -> None:
    tuned = load_encoder(kept)
    assert tuned.config.members == 2 and tuned.dim == 2 * base.dim
    fine_tuned, companion = member_networks(tuned.network)
    texts = ["check my card balance", "zorblax", "how do i reset my password zorblax"]
    base_vectors = base.encode(texts)
    as_base = SentenceEncoder(companion, tuned.tokenizer, "").encode(texts)
    # Known words: exactly the base. "zorblax" is a piece the fine-tune added; the companion
    # reads it as the base read the word (its known n-grams, or the unknown row).
    np.testing.assert_allclose(as_base[0], base_vectors[0], atol=1e-5)
    assert (as_base * base_vectors).sum(1).min() > 0.99
    tuned_alone = SentenceEncoder(fine_tuned, tuned.tokenizer, "").encode(texts)
    assert (tuned_alone * base_vectors).sum(1).min() < 0.999  # it did train
    # One score = the mean of the two networks' cosines.
    both = tuned.encode(texts)
    np.testing.assert_allclose(
        both @ both.T,
        (tuned_alone @ tuned_alone.T + as_base @ as_base.T) / 2,
        atol=1e-5,
    )


def test_class_vectors_cover_both_members(kept: Path, base: SentenceEncoder) -> None:
    weights = load_class_weights(kept)
    assert weights is not None and weights.shape == (len(GROUPS), 2 * base.dim)
    np.testing.assert_allclose(np.linalg.norm(weights, axis=1), 1.0, rtol=1e-5)


def test_keep_base_needs_a_one_network_base(tmp_path: Path, tiny_encoder_path: Path) -> None:
    no_base = tiny_train_config(members=1, keep_base=True)
    ensemble_base = tiny_train_config(init_from=str(tiny_encoder_path), keep_base=True)
    for config in (no_base, ensemble_base):  # tiny_encoder is a 3-network ensemble
        with pytest.raises(TrainingError, match="keep_base"):
            train_encoder(GROUPS, tmp_path / "m", config, progress=False)


def test_the_recipe_keeps_the_base_for_few_phrasings_per_faq(
    base_path: Path, tiny_encoder_path: Path, tmp_path: Path
) -> None:
    recipe = FaqRecipe(train=fine_tune_train_config(base_path))
    few = [["a b", "c d"], ["e f", "g h", "i j"], ["k"]]
    many = [[f"faq {i} way {j}" for j in range(8)] for i in range(3)]
    assert recipe.train_config(few).keep_base
    assert not recipe.train_config(many).keep_base
    assert not FaqRecipe(train=scratch_train_config()).train_config(few).keep_base
    never = FaqRecipe(train=fine_tune_train_config(base_path), keep_base_max_phrasings=0)
    assert not never.train_config(few).keep_base
    # The kept base is distilled into the fine-tune (one network served) unless told not to.
    kept_config = recipe.train_config(few)
    assert kept_config.distil_steps == recipe.distil_steps > 0
    assert kept_config.distil_anchor_sentences == recipe.distil_anchor_sentences > 0
    side_by_side = FaqRecipe(train=fine_tune_train_config(base_path), distil_steps=0)
    assert side_by_side.train_config(few).keep_base
    assert side_by_side.train_config(few).distil_steps == 0
    # More networks from the base only where the base is not kept, and never from scratch;
    # they are served side by side (the operator chose their cost).
    three = FaqRecipe(train=fine_tune_train_config(base_path), members=3)
    assert three.train_config(many).encoder.members == 3
    assert three.train_config(many).distil_steps == 0
    assert three.train_config(few).keep_base and three.train_config(few).encoder.members == 1
    assert (
        FaqRecipe(train=scratch_train_config(), members=3).train_config(many).encoder.members == 1
    )
    # An ensemble base has no one starting network to keep; a missing one is the trainer's
    # to report.
    for other in (tiny_encoder_path, tmp_path / "missing"):
        assert not FaqRecipe(train=fine_tune_train_config(other)).train_config(few).keep_base
