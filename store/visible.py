"""Whether a text shows anything: the one rule for "blank" the store and the API share.

A text of zero-width spaces, a BOM or a Hangul filler is as empty as "   " to a reader, and
as useless to the index; it must contain at least one character that is neither whitespace
(`str.isspace`) nor a Unicode Default_Ignorable_Code_Point. Invisible characters inside
visible text are left alone: they are content (a ZWJ in an emoji, a soft hyphen).
"""

from __future__ import annotations

import re

# Default_Ignorable_Code_Point, inclusive ranges (Unicode DerivedCoreProperties.txt; the
# property has been stable since Unicode 6.x). Hardcoded: `unicodedata` does not expose it.
DEFAULT_IGNORABLE: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x061C, 0x061C),  # Arabic letter mark
    (0x115F, 0x1160),  # Hangul choseong / jungseong fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian variation selectors and vowel separator
    (0x200B, 0x200F),  # zero-width space, ZWNJ, ZWJ, LRM, RLM
    (0x202A, 0x202E),  # bidi embeddings and overrides
    (0x2060, 0x206F),  # word joiner, invisible operators, bidi isolates, deprecated formats
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFEFF, 0xFEFF),  # zero-width no-break space (BOM)
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFFF0, 0xFFF8),  # unassigned, reserved as ignorable
    (0x1BCA0, 0x1BCA3),  # shorthand format controls
    (0x1D173, 0x1D17A),  # musical symbol beam and phrase controls
    (0xE0000, 0xE0FFF),  # tags and variation selectors supplement
)

# The message for a text that has characters but none visible (blank text keeps its own).
INVISIBLE_ONLY = "must contain a visible character, not only invisible ones (e.g. zero-width)"


def char_class(ranges: tuple[tuple[int, int], ...]) -> str:
    """Ranges as the body of a regex character class, in \\u / \\U escapes (no brackets)."""
    return "".join(_escape(lo) if lo == hi else f"{_escape(lo)}-{_escape(hi)}" for lo, hi in ranges)


def _escape(code: int) -> str:
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


# In C and stopping at the first visible character: on real text that is the first one.
_VISIBLE = re.compile(f"[^\\s{char_class(DEFAULT_IGNORABLE)}]")


def has_visible_char(text: str) -> bool:
    """Whether `text` has a character that is neither whitespace nor default-ignorable."""
    return _VISIBLE.search(text) is not None
