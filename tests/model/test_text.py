"""normalize(): the one text normal form shared by tokenizer, store and service."""

from hypothesis import given
from hypothesis import strategies as st

from model.text import normalize, normalize_unicode


def test_fullwidth_folds_to_halfwidth_and_lowercase():
    assert normalize("ＨＥＬＬＯ　Ｗｏｒｌｄ！１２３") == "hello world!123"


def test_whitespace_is_folded_and_stripped():
    assert normalize("  a \t\n b\u3000\u00a0c  ") == "a b c"


def test_control_and_format_characters_are_removed():
    assert normalize("pass\x00word\u200b reset\ufeff") == "password reset"


def test_chinese_and_emoji_survive():
    assert normalize("怎么 修改密码？🙂") == "怎么 修改密码?🙂"


def test_empty_and_whitespace_only():
    assert normalize("") == ""
    assert normalize(" \t\n ") == ""


@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=60))
def test_ascii_shortcut_matches_the_unicode_path(text: str) -> None:
    assert normalize(text) == normalize_unicode(text)


@given(st.text(max_size=40))
def test_cached_answers_match_the_unicode_path(text: str) -> None:
    assert normalize(text) == normalize(text) == normalize_unicode(text)
