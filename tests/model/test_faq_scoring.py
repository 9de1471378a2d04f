"""model.faq_scoring: an FAQ's score from its phrasings', and its place in the checkpoint."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from model.checkpoint import META_FILE, load_encoder, save_checkpoint
from model.checkpoint_format import content_hash
from model.encoder import EncoderConfig, GruEncoder
from model.errors import CheckpointError
from model.faq_scoring import BEST_PHRASING, FaqScoring
from model.numpy_encoder import load_numpy_encoder
from model.tokenizer import Tokenizer, TokenizerConfig


def test_faqs_with_enough_phrasings_blend_their_second_best() -> None:
    scoring = FaqScoring(second_weight=0.4, min_phrasings=3)
    best = np.array([[0.9, 0.8, 0.7]], dtype=np.float32)
    second = np.array([[0.5, 0.8, -np.inf]], dtype=np.float32)  # one phrasing: no second
    phrasings = np.array([3, 5, 1])
    combined = scoring.combine(best, second, phrasings)
    np.testing.assert_allclose(combined, [[0.6 * 0.9 + 0.4 * 0.5, 0.8, 0.7]], rtol=1e-6)
    assert combined.dtype == np.float32 and np.isfinite(combined).all()
    # Two phrasings: below min_phrasings, the best alone.
    assert scoring.combine(best[:, :1], second[:, :1], np.array([2]))[0, 0] == pytest.approx(0.9)
    assert (scoring.weight_for(2), scoring.weight_for(3)) == (0.0, 0.4)


def test_a_phrasing_asked_word_for_word_is_its_faqs_score() -> None:
    scoring = FaqScoring(second_weight=0.4, min_phrasings=3)
    best = np.array([[0.99999994, 0.9998]], dtype=np.float32)  # a float32 cosine of 1; near 1
    second = np.array([[0.5, 0.5]], dtype=np.float32)
    combined = scoring.combine(best, second, np.array([5, 5]))
    np.testing.assert_allclose(combined, [[0.99999994, 0.6 * 0.9998 + 0.4 * 0.5]], rtol=1e-6)


def test_the_default_scores_an_faq_by_its_best_phrasing() -> None:
    best = np.array([[0.9, 0.7]], dtype=np.float32)
    second = np.array([[0.1, -np.inf]], dtype=np.float32)
    np.testing.assert_array_equal(BEST_PHRASING.combine(best, second, np.array([9, 1])), best)
    assert not BEST_PHRASING.votes and BEST_PHRASING.weight_for(50) == 0.0


@pytest.mark.parametrize("weight, minimum", [(-0.1, 3), (1.0, 3), (0.4, 1)])
def test_out_of_range_settings_are_refused(weight: float, minimum: int) -> None:
    with pytest.raises(ValueError):
        FaqScoring(weight, minimum)


def _save(tmp_path, scoring: FaqScoring):
    torch.manual_seed(0)
    texts = ["reset my password", "where is my order"]
    tokenizer = Tokenizer.build(texts, TokenizerConfig(min_count=1))
    network = GruEncoder(EncoderConfig(vocab_size=len(tokenizer), embedding_dim=8, hidden_size=4))
    path = tmp_path / "ckpt"
    save_checkpoint(network, tokenizer, path, faq_scoring=scoring)
    return path


def test_the_checkpoint_carries_a_vote_to_both_encoders(tmp_path) -> None:
    path = _save(tmp_path, FaqScoring(0.4, 3))
    assert json.loads((path / META_FILE).read_text())["faq_scoring"] == {
        "second_weight": 0.4, "min_phrasings": 3
    }
    assert load_encoder(path).faq_scoring == FaqScoring(0.4, 3)
    assert load_numpy_encoder(path).faq_scoring == FaqScoring(0.4, 3)


def test_a_checkpoint_that_does_not_vote_keeps_its_old_shape(tmp_path) -> None:
    path = _save(tmp_path, BEST_PHRASING)
    assert "faq_scoring" not in json.loads((path / META_FILE).read_text())
    assert load_encoder(path).faq_scoring == BEST_PHRASING
    assert load_numpy_encoder(path).faq_scoring == BEST_PHRASING


def test_a_damaged_vote_is_a_clear_checkpoint_error(tmp_path) -> None:
    path = _save(tmp_path, FaqScoring(0.4, 3))
    meta = json.loads((path / META_FILE).read_text())
    meta["faq_scoring"]["second_weight"] = 7
    del meta["content_hash"]
    meta["content_hash"] = content_hash((path / "weights.safetensors").read_bytes(), meta)
    (path / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="inconsistent"):
        load_encoder(path)
    with pytest.raises(CheckpointError, match="inconsistent"):
        load_numpy_encoder(path)
