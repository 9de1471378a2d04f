"""Tokenizer kinds and edge cases: empty, full-width, emoji, mixed scripts, very long input."""

import numpy as np
import pytest

from model.errors import TokenizerError
from model.tokenizer import PAD_ID, UNK_ID, Tokenizer, TokenizerConfig

CORPUS = [
    "how do i reset my password",
    "reset my password please",
    "怎么修改密码",
    "修改密码 password",
    "wifi密码是多少",
] * 2


@pytest.fixture(params=["char", "subword", "bilingual"])
def tokenizer(request) -> Tokenizer:
    return Tokenizer.build(CORPUS, TokenizerConfig(kind=request.param, max_tokens=16))


def test_vocabulary_starts_with_pad_and_unk(tokenizer):
    assert tokenizer.vocabulary[:2] == ["<pad>", "<unk>"]


@pytest.mark.parametrize("text", ["", "   ", "\t\n", "\x00\x01"])
def test_empty_input_is_one_unknown_position(tokenizer, text):
    assert tokenizer.encode(text) == [(UNK_ID,)]
    ids, lengths = tokenizer.batch([text, "reset password"])
    assert lengths[0] == 1 and ids[0, 0, 0] == UNK_ID


def test_fullwidth_text_tokenizes_like_halfwidth(tokenizer):
    fullwidth = "ＲＥＳＥＴ　ｍｙ　ＰＡＳＳＷＯＲＤ"
    assert tokenizer.encode(fullwidth) == tokenizer.encode("reset my password")


def test_emoji_is_its_own_unknown_position(tokenizer):
    encoded = tokenizer.encode("reset 🙂")
    assert encoded[-1] == (UNK_ID,)
    assert len(encoded) >= 2


def test_very_long_input_is_truncated(tokenizer):
    encoded = tokenizer.encode("password " * 10_000)
    assert len(encoded) == 16
    assert all(0 < len(p) <= tokenizer.config.max_pieces for p in encoded)


def test_bilingual_mixed_input_splits_cjk_chars_and_latin_words():
    tok = Tokenizer.build(CORPUS, TokenizerConfig(kind="bilingual"))
    expected = ["wifi", "密", "码", "是", "多", "少", "password", "!"]
    assert tok.split("wifi密码是多少 Password!") == expected
    # a CJK character is one piece; a known Latin word has its word piece and n-grams
    assert tok.pieces("密") == ["密"]
    word_pieces = tok.pieces("password")
    assert word_pieces[0] == "<password>" and "<pa" in word_pieces and "ord>" in word_pieces
    assert len(tok.encode("password")[0]) > 1


def test_subword_shares_pieces_with_unseen_word():
    tok = Tokenizer.build(CORPUS, TokenizerConfig(kind="subword"))
    # "passwords" is not in the vocabulary as a word, but its n-grams are
    (ids,) = tok.encode("passwords")
    assert UNK_ID not in ids and len(ids) > 3


def test_min_count_makes_rare_pieces_unknown():
    tok = Tokenizer.build(["common common", "rare"], TokenizerConfig(kind="char", min_count=2))
    assert "c" in tok.vocabulary and "a" not in tok.vocabulary
    assert tok.encode("ra")[0] == (tok.vocabulary.index("r"),)
    assert tok.encode("a") == [(UNK_ID,)]


def test_batch_shapes_and_padding(tokenizer):
    ids, lengths = tokenizer.batch(["reset my password", "密码", ""])
    assert ids.dtype == np.int64 and ids.ndim == 3
    assert ids.shape[:2] == (3, lengths.max())
    for row, length in enumerate(lengths):
        assert (ids[row, length:] == PAD_ID).all()
        assert (ids[row, :length, 0] != PAD_ID).all()


def test_round_trip_through_dict(tokenizer):
    again = Tokenizer.from_dict(tokenizer.to_dict())
    assert again.vocabulary == tokenizer.vocabulary
    assert again.encode("reset 密码 wifi") == tokenizer.encode("reset 密码 wifi")


def test_invalid_descriptions_raise_tokenizer_error():
    with pytest.raises(TokenizerError):
        Tokenizer(TokenizerConfig(), ["a", "b"])
    with pytest.raises(TokenizerError):
        Tokenizer.from_dict({"config": {"kind": "nope"}, "vocabulary": ["<pad>", "<unk>"]})
    with pytest.raises(TokenizerError):
        Tokenizer.from_dict({"vocabulary": []})
