"""The shipped base encoder: present, intact, as its card says, and licence-clean."""

from __future__ import annotations

import re

import numpy as np

from model.base_model import MODEL_CARD, shipped_base_path
from model.checkpoint import WEIGHTS_FILE, load_encoder, read_metadata
from training.base_recipe import SHIPPABLE_SOURCES

MAX_WEIGHTS_BYTES = 16 * 1024 * 1024


def test_the_base_model_ships_within_its_size_budget() -> None:
    base = shipped_base_path()
    assert base is not None, "model/base/ must hold the shipped checkpoint"
    assert (base / WEIGHTS_FILE).stat().st_size <= MAX_WEIGHTS_BYTES


def test_its_content_hash_is_the_one_on_the_model_card() -> None:
    base = shipped_base_path()
    assert base is not None
    encoder = load_encoder(base)  # verifies the hash over weights + description
    card = MODEL_CARD.read_text(encoding="utf-8")
    stated = re.search(r"content hash: `([0-9a-f]{64})`", card)
    assert stated is not None, "the model card states the content hash"
    assert stated.group(1) == encoder.content_hash


def test_it_was_trained_on_licence_clean_sources_only() -> None:
    base = shipped_base_path()
    assert base is not None
    training = read_metadata(base)["training"]
    assert training["recipe"] == "base"
    assert set(training["sources"]) <= SHIPPABLE_SOURCES
    for source in training["sources"]:
        assert source in MODEL_CARD.read_text(encoding="utf-8")


def test_it_knows_paraphrases_it_was_never_fine_tuned_on() -> None:
    base = shipped_base_path()
    assert base is not None
    encoder = load_encoder(base)
    questions = ["how do I reset my password", "where is my parcel", "我想退货"]
    paraphrases = ["I forgot my password, how can I change it", "track my package", "怎么退货"]
    sims = encoder.encode(paraphrases) @ encoder.encode(questions).T
    assert list(np.argmax(sims, axis=1)) == [0, 1, 2]
