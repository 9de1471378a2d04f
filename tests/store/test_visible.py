"""store.visible: a text needs a character that is neither whitespace nor default-ignorable."""

from __future__ import annotations

import pytest

from store.visible import DEFAULT_IGNORABLE, has_visible_char

# Each one renders as nothing; together with whitespace they are still nothing.
INVISIBLE_ONLY = [
    "\u200b\u200b",  # zero-width spaces
    "\ufeff",  # BOM
    "\u2060",  # word joiner
    "\u00ad",  # soft hyphen
    "\ufe0f",  # variation selector 16
    "\u3164",  # Hangul filler
    "\u115f\u1160\uffa0",  # the other Hangul fillers
    "\u202e\u2066",  # bidi override and isolate
    " \u200b\t\u2060\n",
    "\U000e0041\U000e007f",  # tag characters (astral)
    "\U0001d173",  # musical symbol begin beam (astral)
]
VISIBLE = ["a", "a\u200bb", "\u200bhello", "\U0001f44d\ufe0f", "订单", "\u3164x", "-", "\U0001f600"]


@pytest.mark.parametrize("text", INVISIBLE_ONLY)
def test_invisible_only_text_has_no_visible_character(text: str) -> None:
    assert not has_visible_char(text)


@pytest.mark.parametrize("text", VISIBLE)
def test_one_visible_character_is_enough(text: str) -> None:
    assert has_visible_char(text)


def test_every_code_point_follows_the_definition() -> None:
    # The regex against the definition spelled out: str.isspace (what strip() removes, which
    # re's \s need not be) or one of the hardcoded Default_Ignorable_Code_Point ranges.
    ignorable = {code for lo, hi in DEFAULT_IGNORABLE for code in range(lo, hi + 1)}
    wrong = [
        hex(code)
        for code in range(0x110000)
        if has_visible_char(chr(code)) != (not chr(code).isspace() and code not in ignorable)
    ]
    assert wrong == []
