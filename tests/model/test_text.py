"""normalize(): the one text normal form shared by tokenizer, store and service."""

from model.text import normalize


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
