"""Issue 10 item 5: FAQs containing "pad", "unk", "<pad>", ... train and encode.

The word "pad" has the piece "<pad>", which used to collide with the padding token and made
every training run (`samesay train`, first start, POST /admin/retrain) fail with
`TokenizerError: vocabulary has duplicate entries`.
"""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.checkpoint import load_encoder
from model.tokenizer import PAD_ID, SPECIALS
from tests.fixtures.model_fixtures import tiny_train_config
from training.errors import TrainingError
from training.trainer import train_encoder

SPECIAL_GROUPS = [
    ["do you sell a mouse pad?", "can i buy a mouse pad", "mouse pad for sale?"],
    ["what does unk mean", "unk: what is it", "meaning of unk"],
    ["<pad> <unk> </w>", "what is <pad>", "<unk> token"],
    ["pad", "Pad!", "PAD"],
    ["[PAD] [UNK] <s> </s>", "unk pad unk", "\x00<pad>"],
]


def _check_encodes(path, texts):
    encoder = load_encoder(path)
    assert encoder.tokenizer.vocabulary[:2] == list(SPECIALS)
    word_pieces = encoder.tokenizer.word_pieces
    assert len(set(word_pieces)) == len(word_pieces) and not set(SPECIALS) & set(word_pieces)
    vectors = encoder.encode(texts)
    assert vectors.shape == (len(texts), encoder.dim) and np.isfinite(vectors).all()
    for text in texts:
        assert all(PAD_ID not in ids for ids in encoder.tokenizer.encode(text))
        assert np.isfinite(encoder.encode_one(text)).all()
    return encoder, vectors


def test_groups_with_special_token_words_train_and_encode(tmp_path, fixture_groups):
    groups = [*list(fixture_groups.values())[:6], *SPECIAL_GROUPS]
    config = tiny_train_config(epochs=3, members=1)
    path = train_encoder(groups, tmp_path / "model", config, progress=False)
    texts = [s for g in SPECIAL_GROUPS for s in g] + ["mouse pad", "unk", ""]
    encoder, vectors = _check_encodes(path, texts)
    assert "<pad>" in encoder.tokenizer.word_pieces  # the word "pad" is a word like any other
    norms = np.linalg.norm(vectors, axis=1)
    np.testing.assert_allclose(norms[:-1], 1.0, atol=1e-4)
    assert norms[-1] == 0.0  # "" has no word to read: a zero vector (model.tokenizer)
    # warm start from that checkpoint (vocabulary extension) works on the same data
    warm = tiny_train_config(epochs=1, members=1, init_from=str(path))
    warm_path = train_encoder(groups, tmp_path / "warm", warm, progress=False)
    _check_encodes(warm_path, texts)


any_text = st.text(st.characters(codec=None), max_size=30)
any_groups = st.lists(st.lists(any_text, min_size=1, max_size=3), min_size=1, max_size=4)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(any_groups, st.lists(any_text, max_size=4))
def test_training_and_encoding_accept_any_text(tmp_path_factory, groups, queries):
    usable = sum(any(s.strip() for s in g) for g in groups)
    out = tmp_path_factory.mktemp("any") / "model"
    config = tiny_train_config(epochs=1, members=1, embedding_dim=8, hidden_size=8)
    try:
        path = train_encoder(groups, out, config, progress=False)
    except TrainingError:
        assert usable < 2  # the one refusal: fewer than 2 groups with a sentence
        path = train_encoder([*groups, ["mouse pad"], ["unk"]], out, config, progress=False)
    _check_encodes(path, [s for g in groups for s in g] + queries)
