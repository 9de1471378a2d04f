"""FaqDraft / FaqPatch validation and normalisation (no database)."""

from datetime import UTC, datetime

import pytest

from store.entries import FaqDraft, FaqEntry, FaqPatch
from store.errors import FaqValidationError
from store.visible import INVISIBLE_ONLY


def test_draft_trims_normalises_and_deduplicates() -> None:
    draft = FaqDraft(
        question="  Ｈｏｗ do I reset my password？ ",
        answer=" Use the link. ",
        alternates=["forgot password", "How do I reset my password?", "forgot password", "ﬁx"],
        tags=["account", " account ", "login"],
    )
    assert draft.question == "How do I reset my password?"  # NFKC folds full-width forms
    assert draft.answer == "Use the link."
    assert draft.alternates == ("forgot password", "fix")  # dup of question/earlier dropped
    assert draft.tags == ("account", "login")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"question": "   "}, "question"),
        ({"answer": "\t\n"}, "answer"),
        ({"question": "q" * 501}, "question"),
        ({"answer": "a" * 20_001}, "answer"),
        ({"question": "nul\x00byte"}, "question"),
        ({"answer": "lone \ud800 surrogate"}, "answer"),
        ({"question": 42}, "question"),
        ({"alternates": ["ok", ""]}, "alternates[1]"),
        ({"alternates": ["x" * 501]}, "alternates[0]"),
        ({"alternates": [f"alt {i}" for i in range(101)]}, "alternates"),
        ({"alternates": "not a list"}, "alternates"),
        ({"alternates": [None]}, "alternates[0]"),
        ({"tags": [f"t{i}" for i in range(21)]}, "tags"),
        ({"tags": ["t" * 51]}, "tags[0]"),
    ],
)
def test_draft_rejects_bad_fields_with_the_field_named(kwargs: dict, field: str) -> None:
    values = {"question": "q?", "answer": "a.", **kwargs}
    with pytest.raises(FaqValidationError) as caught:
        FaqDraft(**values)
    assert caught.value.field == field


def test_limits_are_inclusive() -> None:
    draft = FaqDraft("q" * 500, "a" * 20_000, [f"alt {i}" for i in range(100)],
                     [f"t{i}" for i in range(20)])
    assert len(draft.alternates) == 100 and len(draft.tags) == 20


def test_patch_merges_then_validates() -> None:
    now = datetime.now(UTC)
    entry = FaqEntry(7, "q?", "a.", ("alt",), ("tag",), now, now)
    assert entry.phrasings == ("q?", "alt")
    merged = FaqPatch(answer=" new answer ").apply_to(entry)
    assert merged == FaqDraft("q?", "new answer", ("alt",), ("tag",))
    with pytest.raises(FaqValidationError):
        FaqPatch(question=" ").apply_to(entry)


@pytest.mark.parametrize("field", ["alternates", "tags"])
@pytest.mark.parametrize("value", ["one", {"a": 1}, {"a", "b"}, 5])
def test_list_fields_refuse_what_is_not_an_ordered_list(field: str, value: object) -> None:
    with pytest.raises(FaqValidationError) as caught:
        FaqDraft("q", "a", **{field: value})
    assert (caught.value.field, caught.value.message) == (field, "must be a list of strings")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"question": "\u200b\u200b"}, "question"),
        ({"answer": " \ufeff "}, "answer"),
        ({"alternates": ["ok", "\u2060"]}, "alternates[1]"),
        ({"tags": ["\u00ad\ufe0f"]}, "tags[0]"),
        ({"tags": ["\u3164"]}, "tags[0]"),  # NFKC makes it U+1160, invisible too
        ({"question": "\U000e0041"}, "question"),
    ],
)
def test_invisible_only_text_is_refused_like_blank_text(kwargs: dict, field: str) -> None:
    with pytest.raises(FaqValidationError) as caught:
        FaqDraft(**{"question": "q?", "answer": "a.", **kwargs})
    assert caught.value.field == field
    assert caught.value.message == INVISIBLE_ONLY


def test_invisible_characters_inside_visible_text_are_kept() -> None:
    draft = FaqDraft("\u200bsoft\u00adhyphen?", "a\u2060b", ["x\ufe0f"], ["\ufefftag"])
    assert (draft.question, draft.answer) == ("\u200bsoft\u00adhyphen?", "a\u2060b")
    assert (draft.alternates, draft.tags) == (("x\ufe0f",), ("\ufefftag",))
