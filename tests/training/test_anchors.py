"""Anchors keep a fine-tuned model near its base on sentences outside the FAQ set."""

from __future__ import annotations

import numpy as np

from model.checkpoint import load_encoder
from tests.fixtures.model_fixtures import tiny_train_config
from training.anchors import anchor_sentences, vocabulary_words
from training.trainer import train_encoder

GROUPS = [
    ["zorblax gift card balance", "check my zorblax card balance", "zorblax card money left"],
    ["zorblax gift card expiry", "when does my zorblax card expire", "zorblax card end date"],
    ["how do i reset my password", "forgot my password", "password reset link"],
]


def test_anchor_sentences_use_the_vocabulary_words(tiny_encoder) -> None:
    words = vocabulary_words(tiny_encoder.tokenizer)
    assert words and all(w.isalpha() and w.islower() for w in words)
    made = anchor_sentences(tiny_encoder.tokenizer, ["reset my password now"], 50, seed=0)
    assert len(made) == 50
    assert all(set(s.lower().replace("?", " ").split()) & set(words) for s in made)


def _drift(base, tuned, sentences: list[str]) -> float:
    """Mean 1 - cosine between the base's and the fine-tune's vectors of `sentences`."""
    return float(np.mean(1.0 - np.sum(base.encode(sentences) * tuned.encode(sentences), 1)))


def test_anchors_hold_general_sentences_near_the_base(
    tmp_path, tiny_encoder_path, tiny_encoder
) -> None:
    general = anchor_sentences(tiny_encoder.tokenizer, [], 200, seed=99)  # not the anchors
    drifts = {}
    for weight in (0.0, 20.0):
        config = tiny_train_config(
            epochs=8, init_from=str(tiny_encoder_path), anchor_weight=weight, anchor_sentences=300
        )
        tuned = load_encoder(train_encoder(GROUPS, tmp_path / f"w{weight}", config, progress=False))
        drifts[weight] = _drift(tiny_encoder, tuned, general)
        # Either way the FAQ set itself is learned.
        vectors = tuned.encode(["zorblax card money left", "zorblax card end date"])
        assert float(vectors[0] @ vectors[1]) < 0.99
    assert drifts[20.0] < 0.5 * drifts[0.0], drifts


def test_anchor_weight_is_ignored_when_training_from_scratch(tmp_path) -> None:
    config = tiny_train_config(epochs=2, anchor_weight=5.0)
    tuned = load_encoder(train_encoder(GROUPS, tmp_path / "scratch", config, progress=False))
    assert tuned.encode_one("forgot my password").shape == (tuned.dim,)
