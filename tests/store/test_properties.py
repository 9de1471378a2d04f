"""Property tests: any input either fails with FaqValidationError or round-trips unchanged."""

import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.entries import LIMITS, FaqDraft
from store.errors import FaqValidationError
from store.faq_store import FaqStore

# Any code point, surrogates and NUL included: the store must refuse those with a typed error.
any_text = st.text(st.characters(codec=None), max_size=60)


@settings(max_examples=300, deadline=None)
@given(any_text, any_text, st.lists(any_text, max_size=5), st.lists(any_text, max_size=5))
def test_draft_is_valid_normalised_and_idempotent_or_a_typed_error(
    question: str, answer: str, alternates: list[str], tags: list[str]
) -> None:
    try:
        draft = FaqDraft(question, answer, alternates, tags)
    except FaqValidationError as error:
        assert error.field and error.message
        return
    for text in (draft.question, draft.answer, *draft.alternates, *draft.tags):
        assert text and text == text.strip() == unicodedata.normalize("NFKC", text)
        assert "\x00" not in text
        text.encode("utf-8")  # no lone surrogates
    assert len(draft.question) <= LIMITS.question_chars
    assert draft.question not in draft.alternates
    assert len(set(draft.alternates)) == len(draft.alternates)
    assert FaqDraft(draft.question, draft.answer, draft.alternates, draft.tags) == draft


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(any_text, any_text, st.lists(any_text, max_size=3), st.lists(any_text, max_size=3))
def test_every_accepted_draft_round_trips_through_the_database(
    faq_store: FaqStore, question: str, answer: str, alternates: list[str], tags: list[str]
) -> None:
    try:
        draft = FaqDraft(question, answer, alternates, tags)
    except FaqValidationError:
        return
    [entry] = faq_store.add([draft])
    stored = faq_store.get(entry.id)
    assert (stored.question, stored.answer, stored.alternates, stored.tags) == (
        draft.question, draft.answer, draft.alternates, draft.tags
    )
    for tag in draft.tags:
        assert entry.id in {e.id for e in faq_store.list_page(limit=100, tags=[tag]).entries}
