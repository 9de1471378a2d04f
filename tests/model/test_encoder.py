"""GruEncoder, EnsembleEncoder and SentenceEncoder: unit vectors, padding invariance, every
pooling, and the NumPy paths against PyTorch."""

import numpy as np
import pytest
import torch

from model.encoder import EncoderConfig, EnsembleEncoder, GruEncoder, build_network
from model.sentence_encoder import SentenceEncoder
from model.tokenizer import Tokenizer, TokenizerConfig

TEXTS = ["how do i reset my password", "密码", "", "wifi密码 password reset please now", "hi"]


def _encoder(
    pooling: str, bidirectional: bool, layers: int = 1, members: int = 1
) -> SentenceEncoder:
    torch.manual_seed(0)
    tokenizer = Tokenizer.build(TEXTS, TokenizerConfig(min_count=1))
    config = EncoderConfig(
        vocab_size=len(tokenizer),
        embedding_dim=16,
        hidden_size=8,
        num_layers=layers,
        bidirectional=bidirectional,
        pooling=pooling,
        tokenizer=tokenizer.config,
        members=members,
    )
    return SentenceEncoder(build_network(config), tokenizer, content_hash="test")


def _torch_vectors(encoder: SentenceEncoder, texts: list[str]) -> np.ndarray:
    """The reference: PyTorch's GRU on one padded batch (the NumPy paths must agree), with a
    text the tokenizer reads no word in ("", "x" here) as zero, as every encode path gives it."""
    ids, lengths = encoder.tokenizer.batch(texts)
    with torch.inference_mode():
        vectors = encoder.network(torch.from_numpy(ids), torch.from_numpy(lengths)).numpy()
    vectors[~encoder.tokenizer.encode_read_many(texts)[1]] = 0.0
    return vectors


@pytest.mark.parametrize("members", [1, 2])
@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_unit_norm_and_batch_equals_single(pooling, bidirectional, members):
    encoder = _encoder(pooling, bidirectional, layers=2, members=members)
    batch = _torch_vectors(encoder, TEXTS)
    read = [text != "" for text in TEXTS]
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), read, rtol=1e-5)
    # padding inside a batch must not change a sentence's vector
    singles = np.stack([encoder.encode_one(t) for t in TEXTS])
    np.testing.assert_allclose(batch, singles, atol=1e-5)
    # bulk encoding (PyTorch, length-sorted batches of 3) agrees too
    bulk = encoder.encode(TEXTS * 30, batch_size=3)
    assert bulk.dtype == np.float32 and bulk.shape == (len(TEXTS) * 30, encoder.dim)
    np.testing.assert_allclose(bulk, np.tile(batch, (30, 1)), atol=1e-5)


def test_dim_follows_direction_and_member_count():
    assert _encoder("max", True).dim == 16
    assert _encoder("max", False).dim == 8
    assert _encoder("max", True, members=3).dim == 48


def test_ensemble_vector_is_members_concatenated_and_cosine_is_their_mean():
    ensemble = _encoder("max", True, members=2)
    assert isinstance(ensemble.network, EnsembleEncoder)
    members = [
        SentenceEncoder(m, ensemble.tokenizer, content_hash="m") for m in ensemble.network.members
    ]
    together = ensemble.encode(TEXTS)
    alone = [m.encode(TEXTS) for m in members]
    np.testing.assert_allclose(together, np.hstack(alone) / np.sqrt(2), atol=1e-6)
    np.testing.assert_allclose(
        together @ together.T, (alone[0] @ alone[0].T + alone[1] @ alone[1].T) / 2, atol=1e-5
    )
    # members are independent networks, not copies
    assert not np.allclose(alone[0], alone[1])


def test_ensemble_rejects_wrong_members():
    config = EncoderConfig(vocab_size=4, embedding_dim=4, hidden_size=2, members=2)
    with pytest.raises(ValueError, match="one member"):
        GruEncoder(config)
    with pytest.raises(ValueError, match="at least 2"):
        EnsembleEncoder(EncoderConfig(vocab_size=4))
    other = GruEncoder(EncoderConfig(vocab_size=4, embedding_dim=4, hidden_size=3))
    with pytest.raises(ValueError, match="members must be"):
        EnsembleEncoder(config, [other, other])


def test_empty_batch_and_whitespace_text():
    encoder = _encoder("max", True)
    assert encoder.encode([]).shape == (0, encoder.dim)
    vector = encoder.encode_one("   ")  # no word to read: zero, and never NaN
    assert vector.shape == (encoder.dim,) and not vector.any()


def test_encode_does_not_track_gradients():
    encoder = _encoder("mean", True)
    encoder.encode(TEXTS)
    assert all(p.grad is None for p in encoder.network.parameters())
    assert not encoder.network.training


def test_unknown_pooling_is_rejected():
    with pytest.raises(ValueError, match="pooling"):
        GruEncoder(EncoderConfig(vocab_size=4, pooling="sum"))


@pytest.mark.parametrize("members", [1, 2])
def test_fast_path_matches_torch_for_long_and_mixed_text(members):
    encoder = _encoder("max", True, layers=2, members=members)
    texts = ["password " * 40, "wifi密码 reset 🙂 please", "x"]
    with torch.inference_mode():
        for text in texts:
            expected = _torch_vectors(encoder, [text])[0]
            np.testing.assert_allclose(encoder.encode_one(text), expected, atol=1e-5)
            assert encoder.encode_one(text).dtype == np.float32


@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("members", [1, 2])
def test_encode_many_matches_torch_on_mixed_lengths(pooling, bidirectional, layers, members):
    # Texts of very different lengths padded together (an FAQ write's phrasings).
    encoder = _encoder(pooling, bidirectional, layers, members)
    texts = [*TEXTS, "password " * 40, "wifi密码 reset 🙂 please", "x"]
    expected = _torch_vectors(encoder, texts)
    got = encoder.encode_many(texts)
    np.testing.assert_array_equal(encoder.encode(texts), got)  # small batches: NumPy path
    assert got.dtype == np.float32 and got.shape == (len(texts), encoder.dim)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(encoder.encode_many(texts[1:2]), expected[1:2], atol=1e-5)
    assert encoder.encode_many([]).shape == (0, encoder.dim)


def test_embedding_dropout_acts_only_while_training():
    plain = _encoder("max", True)
    torch.manual_seed(0)
    config = EncoderConfig(**{**plain.config.__dict__, "embedding_dropout": 0.5})
    dropped = GruEncoder(config)
    dropped.load_state_dict(plain.network.state_dict())
    ids, lengths = plain.tokenizer.batch(TEXTS[:2])
    ids, lengths = torch.from_numpy(ids), torch.from_numpy(lengths)
    with torch.no_grad():
        reference = plain.network.eval()(ids, lengths)
        assert torch.equal(dropped.eval()(ids, lengths), reference)
        assert not torch.allclose(dropped.train()(ids, lengths), reference)
    restored = EncoderConfig.from_dict(config.to_dict())
    assert restored.embedding_dropout == 0.5
