"""FAQ entry types: the stored `FaqEntry`, and the validated inputs `FaqDraft` / `FaqPatch`."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from store.errors import FaqValidationError
from store.visible import INVISIBLE_ONLY, has_visible_char


@dataclass(frozen=True)
class Limits:
    # Long enough for any real question; short enough that one phrasing stays one sentence.
    question_chars: int = 500
    # An answer is a paragraph or a short page, never a document dump.
    answer_chars: int = 20_000
    alternate_chars: int = 500
    # The index packs ids as faq_id * 128 + phrasing_no: 1 question + 100 alternates fit.
    alternates: int = 100
    # Tags are filters, not content: a few short labels.
    tags: int = 20
    tag_chars: int = 50


LIMITS = Limits()
# The largest FAQ id any layer accepts: the index packs faq_id * 128 + phrasing number into
# one positive int64 vector id (index.faq_index), which leaves 56 bits for the FAQ id.
MAX_FAQ_ID = (1 << 56) - 1


@dataclass(frozen=True)
class FaqEntry:
    """One stored FAQ entry; text is NFKC-normalised and trimmed. Timestamps are UTC-aware."""

    id: int
    question: str
    answer: str
    alternates: tuple[str, ...]
    tags: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    # The store revision of its last change: the API's ETag, which a client sends back as
    # If-Match so that its write fails instead of overwriting a change it has not seen.
    revision: int = 0

    def to_record(self) -> dict[str, Any]:
        """The public record (lists instead of tuples): what the API returns and export writes."""
        return {
            "id": self.id,
            "question": self.question,
            "answer": self.answer,
            "alternates": list(self.alternates),
            "tags": list(self.tags),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    @property
    def phrasings(self) -> tuple[str, ...]:
        """Every indexed way to ask this entry: the question first, then the alternates."""
        return (self.question, *self.alternates)


@dataclass(frozen=True)
class FaqDraft:
    """A validated entry to create or fully replace; constructing one validates it.

    Text is NFKC-normalised and trimmed; alternates equal to the question or to an earlier
    alternate are dropped (they would only duplicate index vectors); tags are deduplicated.
    Raises FaqValidationError naming the field (e.g. "alternates[3]").
    """

    question: str
    answer: str
    alternates: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        question = clean_text(self.question, "question", LIMITS.question_chars)
        answer = clean_text(self.answer, "answer", LIMITS.answer_chars)
        alternate_list = _as_list(self.alternates, "alternates")
        if len(alternate_list) > LIMITS.alternates:
            raise FaqValidationError(
                "alternates", f"at most {LIMITS.alternates} alternates, got {len(alternate_list)}"
            )
        seen = {question}
        alternates: list[str] = []
        for position, raw in enumerate(alternate_list):
            text = clean_text(raw, f"alternates[{position}]", LIMITS.alternate_chars)
            if text not in seen:
                seen.add(text)
                alternates.append(text)
        tag_list = _as_list(self.tags, "tags")
        if len(tag_list) > LIMITS.tags:
            raise FaqValidationError("tags", f"at most {LIMITS.tags} tags, got {len(tag_list)}")
        tags = dict.fromkeys(
            clean_text(raw, f"tags[{position}]", LIMITS.tag_chars)
            for position, raw in enumerate(tag_list)
        )
        # Frozen dataclass: normalised values replace the raw ones exactly once, here.
        object.__setattr__(self, "question", question)
        object.__setattr__(self, "answer", answer)
        object.__setattr__(self, "alternates", tuple(alternates))
        object.__setattr__(self, "tags", tuple(tags))


@dataclass(frozen=True)
class FaqPatch:
    """A partial update: fields left as None keep their stored value."""

    question: str | None = None
    answer: str | None = None
    alternates: tuple[str, ...] | None = None
    tags: tuple[str, ...] | None = None

    def apply_to(self, entry: FaqEntry) -> FaqDraft:
        """Merge onto the stored entry and validate the result as a whole."""
        return FaqDraft(
            entry.question if self.question is None else self.question,
            entry.answer if self.answer is None else self.answer,
            entry.alternates if self.alternates is None else self.alternates,
            entry.tags if self.tags is None else self.tags,
        )


# In the stable message for a text whose normalised form is over its limit.
NFKC_LIMIT_MARK = "characters once NFKC-normalised"


def clean_text(value: Any, field_name: str, max_chars: int) -> str:
    """NFKC-normalise and trim one text field, or raise FaqValidationError saying why: it
    must have a visible character (store.visible); invisible ones inside it are kept."""
    if not isinstance(value, str):
        raise FaqValidationError(field_name, f"must be a string, got {type(value).__name__}")
    if "\x00" in value:
        raise FaqValidationError(field_name, "contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise FaqValidationError(field_name, "contains a lone surrogate") from None
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        raise FaqValidationError(field_name, "must not be empty")
    if not has_visible_char(text):
        raise FaqValidationError(field_name, INVISIBLE_ONLY)
    if len(text) > max_chars:
        # Counted on the stored (normalised) text: one ligature or compatibility character
        # can become up to 18 ("\ufdfa"), so a text within the limit as sent may exceed it.
        message = f"at most {max_chars} {NFKC_LIMIT_MARK} (as stored), got {len(text)}"
        raise FaqValidationError(field_name, message)
    return text


def _as_list(values: Iterable[Any] | None, field_name: str) -> list[Any]:
    if values is None:
        return []
    # A mapping or a set iterates too, but as its keys or in no order: a JSON object in an
    # import file would become its keys.
    unordered = isinstance(values, Mapping | AbstractSet)
    if unordered or isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise FaqValidationError(field_name, "must be a list of strings")
    return list(values)
