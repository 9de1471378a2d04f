"""Checkpoint directories: bit-identical round trip, clear errors for damage."""

import json

import numpy as np
import pytest
import torch

from model.checkpoint import (
    META_FILE,
    WEIGHTS_FILE,
    load_class_weights,
    load_encoder,
    save_checkpoint,
)
from model.encoder import EncoderConfig, EnsembleEncoder, GruEncoder
from model.errors import CheckpointError
from model.sentence_encoder import SentenceEncoder
from model.tokenizer import LEGACY_SPECIALS, SPECIALS, Tokenizer, TokenizerConfig

TEXTS = ["reset my password", "怎么修改密码", "where is my order", ""]


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    tokenizer = Tokenizer.build(TEXTS, TokenizerConfig(min_count=1))
    network = GruEncoder(EncoderConfig(vocab_size=len(tokenizer), embedding_dim=16, hidden_size=8))
    digest = save_checkpoint(network, tokenizer, tmp_path / "ckpt", {"note": "test"})
    return tmp_path / "ckpt", SentenceEncoder(network, tokenizer, digest)


def test_round_trip_is_bit_identical(saved):
    path, original = saved
    loaded = load_encoder(path)
    assert loaded.content_hash == original.content_hash and len(loaded.content_hash) == 64
    assert loaded.config == original.config and loaded.dim == original.dim
    np.testing.assert_array_equal(loaded.encode(TEXTS), original.encode(TEXTS))
    np.testing.assert_array_equal(loaded.encode_one(TEXTS[1]), original.encode_one(TEXTS[1]))


def test_ensemble_round_trip_is_bit_identical(tmp_path):
    torch.manual_seed(0)
    tokenizer = Tokenizer.build(TEXTS, TokenizerConfig(min_count=1))
    config = EncoderConfig(vocab_size=len(tokenizer), embedding_dim=16, hidden_size=8, members=2)
    network = EnsembleEncoder(config)
    digest = save_checkpoint(network, tokenizer, tmp_path / "ckpt")
    original = SentenceEncoder(network, tokenizer, digest)
    loaded = load_encoder(tmp_path / "ckpt")
    assert isinstance(loaded.network, EnsembleEncoder) and loaded.dim == 32
    np.testing.assert_array_equal(loaded.encode(TEXTS), original.encode(TEXTS))
    np.testing.assert_array_equal(loaded.encode_one(TEXTS[1]), original.encode_one(TEXTS[1]))


def test_metadata_is_self_describing(saved):
    path, _ = saved
    meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
    assert meta["training"] == {"note": "test"}
    assert meta["tokenizer"]["vocabulary"][:2] == list(SPECIALS)
    assert meta["encoder"]["hidden_size"] == 8


def test_tampered_weights_fail_the_hash(saved):
    path, _ = saved
    data = bytearray((path / WEIGHTS_FILE).read_bytes())
    data[-1] ^= 0xFF
    (path / WEIGHTS_FILE).write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="content hash.*samesay train"):
        load_encoder(path)


def test_wrong_hash_in_json_fails(saved):
    path, _ = saved
    meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
    meta["content_hash"] = "0" * 64
    (path / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(CheckpointError, match="content hash"):
        load_encoder(path)


@pytest.mark.parametrize("missing", [WEIGHTS_FILE, META_FILE])
def test_missing_file_is_a_clear_error(saved, missing):
    path, _ = saved
    (path / missing).unlink()
    with pytest.raises(CheckpointError, match=f"no {missing}"):
        load_encoder(path)


def test_missing_directory_and_bad_json(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_encoder(tmp_path / "nowhere")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / META_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_encoder(tmp_path / "bad")


def test_class_weights_round_trip_unit_rows_and_hashed(tmp_path):
    torch.manual_seed(0)
    tokenizer = Tokenizer.build(TEXTS, TokenizerConfig(min_count=1))
    network = GruEncoder(EncoderConfig(vocab_size=len(tokenizer), embedding_dim=16, hidden_size=8))
    raw = torch.randn(3, network.config.dim) * 5  # (C, dim), not unit
    save_checkpoint(network, tokenizer, tmp_path / "c", class_weights=raw)
    weights = load_class_weights(tmp_path / "c")
    assert weights.shape == (3, 16) and weights.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(weights, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(weights, (raw / raw.norm(dim=1, keepdim=True)).numpy(), rtol=1e-6)
    # The encoder loads as before (the class vectors are not network parameters)...
    plain = SentenceEncoder(network, tokenizer, "")
    np.testing.assert_array_equal(load_encoder(tmp_path / "c").encode(TEXTS), plain.encode(TEXTS))
    # ...and the class vectors are covered by the content hash.
    data = bytearray((tmp_path / "c" / WEIGHTS_FILE).read_bytes())
    data[-1] ^= 0xFF  # a byte of the stored tensors
    (tmp_path / "c" / WEIGHTS_FILE).write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="content hash"):
        load_encoder(tmp_path / "c")


def test_checkpoint_without_class_weights_has_none(saved):
    path, _ = saved
    assert load_class_weights(path) is None


def test_checkpoint_with_legacy_slot_labels_still_loads(tmp_path):
    # Checkpoints written before the special slots were reserved label them "<pad>", "<unk>".
    torch.manual_seed(0)
    built = Tokenizer.build(TEXTS, TokenizerConfig(min_count=1))
    legacy = Tokenizer(built.config, [*LEGACY_SPECIALS, *built.word_pieces])
    network = GruEncoder(EncoderConfig(vocab_size=len(legacy), embedding_dim=16, hidden_size=8))
    digest = save_checkpoint(network, legacy, tmp_path / "ckpt")
    meta = json.loads((tmp_path / "ckpt" / META_FILE).read_text(encoding="utf-8"))
    assert meta["tokenizer"]["vocabulary"][:2] == ["<pad>", "<unk>"]  # the old format
    loaded = load_encoder(tmp_path / "ckpt")
    assert loaded.content_hash == digest
    assert loaded.tokenizer.vocabulary == legacy.vocabulary
    original = SentenceEncoder(network, legacy, digest)
    texts = [*TEXTS, "mouse pad", "unk", "<pad>"]
    np.testing.assert_array_equal(loaded.encode(texts), original.encode(texts))
