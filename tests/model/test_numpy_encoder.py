"""The torch-free serving encoder: loads any checkpoint `load_encoder` loads, and agrees with it."""

import numpy as np
import pytest
import torch

from model.checkpoint import META_FILE, WEIGHTS_FILE, load_encoder, save_checkpoint
from model.encoder import EncoderConfig, EnsembleEncoder, GruEncoder
from model.errors import CheckpointError
from model.numpy_encoder import ENCODE_CHUNK, load_numpy_encoder
from model.tokenizer import Tokenizer, TokenizerConfig

TEXTS = ["reset my password", "怎么修改密码", "where is my order", "", "wifi密码 reset 🙂"]


def _saved(tmp_path, members: int, half_precision: bool = False):
    torch.manual_seed(0)
    tokenizer = Tokenizer.build(TEXTS, TokenizerConfig(min_count=1))
    config = EncoderConfig(
        vocab_size=len(tokenizer), embedding_dim=16, hidden_size=8, members=members
    )
    network = EnsembleEncoder(config) if members > 1 else GruEncoder(config)
    path = tmp_path / "ckpt"
    save_checkpoint(network, tokenizer, path, half_precision=half_precision)
    return path


@pytest.mark.parametrize(("members", "half"), [(1, False), (2, False), (1, True)])
def test_agrees_with_the_torch_encoder(tmp_path, members, half):
    path = _saved(tmp_path, members, half)
    reference, numpy_encoder = load_encoder(path), load_numpy_encoder(path)
    assert numpy_encoder.content_hash == reference.content_hash
    assert numpy_encoder.config == reference.config and numpy_encoder.dim == reference.dim
    for text in TEXTS:  # the /ask path: the same NumPy code on the same float32 weights
        np.testing.assert_array_equal(numpy_encoder.encode_one(text), reference.encode_one(text))
    np.testing.assert_array_equal(numpy_encoder.encode_many(TEXTS), reference.encode_many(TEXTS))
    # Bulk: several NumPy chunks where SentenceEncoder runs PyTorch's GRU.
    many = [f"{text} {i}" for i in range(ENCODE_CHUNK + 40) for text in TEXTS[:2]]
    got = numpy_encoder.encode(many)
    assert got.dtype == np.float32 and got.shape == (len(many), numpy_encoder.dim)
    np.testing.assert_allclose(got, reference.encode(many), atol=1e-5)
    assert numpy_encoder.encode([]).shape == (0, numpy_encoder.dim)


def test_carries_the_lexical_model(tiny_encoder_path):
    assert load_numpy_encoder(tiny_encoder_path).lexical == load_encoder(tiny_encoder_path).lexical


def test_damage_is_a_checkpoint_error(tmp_path):
    path = _saved(tmp_path, members=1)
    weights = bytearray((path / WEIGHTS_FILE).read_bytes())
    weights[-1] ^= 1
    (path / WEIGHTS_FILE).write_bytes(bytes(weights))
    with pytest.raises(CheckpointError, match="content hash"):
        load_numpy_encoder(path)
    (path / META_FILE).unlink()
    with pytest.raises(CheckpointError, match=META_FILE):
        load_numpy_encoder(path)


def test_a_text_with_no_known_word_encodes_to_zero_on_every_path(tmp_path):
    """Unknown tokens alone encode every such text alike (cosine ~1 between a Russian FAQ
    and a Korean question); a zero vector scores 0 with everything instead."""
    path = _saved(tmp_path, 1)
    texts = ["где моя посылка", "reset my password", "내 소포는 어디에", "🙂", "where is my order"]
    unread = [0, 2, 3]
    many = texts * 40  # past FAST_PATH_MAX_TEXTS: SentenceEncoder runs PyTorch's GRU
    for encoder in (load_encoder(path), load_numpy_encoder(path)):
        norms = [
            np.linalg.norm(encoder.encode(texts), axis=1),
            np.linalg.norm(encoder.encode_many(texts), axis=1),
            np.linalg.norm(np.stack([encoder.encode_one(t) for t in texts]), axis=1),
            np.linalg.norm(encoder.encode(many), axis=1)[: len(texts)],
        ]
        for got in norms:
            np.testing.assert_allclose(got, [0, 1, 0, 0, 1], atol=1e-5)
        assert not encoder.encode_one(texts[unread[0]]).any()
