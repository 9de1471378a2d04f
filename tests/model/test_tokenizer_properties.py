"""Property tests: any Unicode text builds a vocabulary and tokenizes; no special is a piece."""

from hypothesis import given, settings
from hypothesis import strategies as st

from model.tokenizer import PAD_ID, SPECIALS, UNK_ID, Tokenizer, TokenizerConfig

# Any code point: surrogates, NUL and other controls, unassigned and private-use included.
any_text = st.text(st.characters(codec=None), max_size=40)
# Text that spells special tokens and their parts often, mixed with anything.
special_like = st.lists(
    st.sampled_from(
        ["pad", "unk", "<pad>", "<unk>", "</w>", "<", ">", "\x00", "<\x00pad>", " ", "mouse"]
    )
    | any_text,
    max_size=8,
).map("".join)
texts = st.lists(any_text | special_like, max_size=8)
configs = st.builds(
    TokenizerConfig,
    kind=st.sampled_from(["char", "subword", "bilingual"]),
    max_tokens=st.integers(1, 8),
    max_pieces=st.integers(1, 8),
    min_n=st.integers(1, 3),
    max_n=st.integers(3, 5),
    min_count=st.integers(1, 2),
)


@settings(max_examples=300, deadline=None)
@given(texts, texts, configs)
def test_any_text_builds_and_encodes_and_no_special_is_a_piece(corpus, queries, config):
    tok = Tokenizer.build(corpus, config)
    assert tok.vocabulary[:2] == list(SPECIALS)
    assert not set(SPECIALS) & set(tok.word_pieces)
    assert len(set(tok.word_pieces)) == len(tok.word_pieces)
    again = Tokenizer.from_dict(tok.to_dict())  # what a checkpoint stores loads back
    for text in corpus + queries:
        encoded = tok.encode(text)
        assert encoded and len(encoded) <= config.max_tokens
        for token in tok.split(text):
            # a word's pieces never name a special slot, and never map to padding
            assert not set(tok.pieces(token)) & set(SPECIALS)
            ids = tok.token_ids(token)
            assert ids and PAD_ID not in ids and len(ids) <= config.max_pieces
            assert UNK_ID not in ids or ids == (UNK_ID,)
            assert all(0 < i < len(tok) for i in ids)
        assert again.encode(text) == encoded
    ids, lengths = tok.batch(corpus + queries + [""])
    assert (lengths >= 1).all() and ids.shape[0] == len(corpus) + len(queries) + 1
    for row, length in enumerate(lengths):
        assert (ids[row, :length, 0] != PAD_ID).all() and (ids[row, length:] == PAD_ID).all()
