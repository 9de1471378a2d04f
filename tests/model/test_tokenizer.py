"""Tokenizer kinds and edge cases: empty, full-width, emoji, mixed scripts, very long input."""

import numpy as np
import pytest

from model.errors import TokenizerError
from model.tokenizer import (
    LEGACY_SPECIALS,
    PAD_ID,
    SPECIALS,
    UNK_ID,
    Tokenizer,
    TokenizerConfig,
)

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
    assert tokenizer.vocabulary[:2] == list(SPECIALS)
    # the slot labels hold a character normalisation removes: no piece can ever equal them
    assert all("\x00" in label for label in SPECIALS)
    assert not any("\x00" in piece for piece in tokenizer.word_pieces)


@pytest.mark.parametrize("kind", ["char", "subword", "bilingual"])
def test_words_spelt_like_special_tokens_are_ordinary_pieces(kind):
    # issue 10 item 5: the piece "<pad>" of the word "pad" collided with the padding token
    corpus = ["do you sell a mouse pad", "pad unk <pad> <unk> </w> <s> [PAD] [UNK]"] * 2
    tok = Tokenizer.build(corpus, TokenizerConfig(kind=kind))
    assert tok.vocabulary[:2] == list(SPECIALS)
    assert len(set(tok.word_pieces)) == len(tok.word_pieces)
    if kind != "char":
        assert "<pad>" in tok.word_pieces and "<unk>" in tok.word_pieces
        (pad_ids,) = tok.encode("pad")
        assert tok.piece_id("<pad>") in pad_ids
    for text in corpus + ["pad", "unk", "<pad>", "<unk>", "</w>"]:
        for ids in tok.encode(text):
            assert PAD_ID not in ids
        ids, lengths = tok.batch([text])
        assert (ids[0, : lengths[0], 0] >= 1).all()
    assert Tokenizer.from_dict(tok.to_dict()).encode("mouse pad") == tok.encode("mouse pad")


def test_legacy_slot_labels_still_load_and_never_match_a_word():
    # vocabularies saved before the slots were reserved label them "<pad>", "<unk>"
    legacy = Tokenizer(TokenizerConfig(kind="subword"), [*LEGACY_SPECIALS, "<pa", "pad"])
    assert legacy.vocabulary[:2] == list(LEGACY_SPECIALS)
    (ids,) = legacy.encode("pad")
    assert PAD_ID not in ids and ids == (legacy.piece_id("<pa"), legacy.piece_id("pad"))
    assert legacy.encode("unk") == [(UNK_ID,)]
    # ... and may now also hold the word piece "<pad>" (e.g. extended by a warm start)
    extended = Tokenizer(legacy.config, [*legacy.vocabulary, "<pad>"])
    assert extended.encode("pad")[0] == (4, 2, 3)


def test_special_labels_and_duplicates_are_refused_as_pieces():
    with pytest.raises(TokenizerError, match="special"):
        Tokenizer(TokenizerConfig(), [*SPECIALS, SPECIALS[0]])
    with pytest.raises(TokenizerError, match="duplicate"):
        Tokenizer(TokenizerConfig(), [*SPECIALS, "<ab", "<ab"])
    with pytest.raises(TokenizerError):
        Tokenizer(TokenizerConfig(), [*SPECIALS, ""])
    with pytest.raises(TokenizerError):
        Tokenizer(TokenizerConfig(), ["<pad>", UNK_ID])


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


def test_a_text_is_read_when_some_word_has_a_known_piece() -> None:
    texts = ["where is my parcel?", "怎么修改密码"]
    tokenizer = Tokenizer.build(texts, TokenizerConfig(min_count=1))
    read = ["where is it", "parcel", "密码", "where is моя посылка", "parcels!"]
    unread = ["где моя посылка", "내 소포는", "🙂🙂🙂", "j1", "", "? ?", "أين طردي"]
    assert [tokenizer.reads(text) for text in read] == [True] * len(read)
    assert [tokenizer.reads(text) for text in unread] == [False] * len(unread)
    for text in [*read, *unread]:
        assert tokenizer.encode_read(text)[0] == tokenizer.encode(text)
