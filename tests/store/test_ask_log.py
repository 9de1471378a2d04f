"""Ask log, feedback and the unanswered-questions aggregation, against both backends."""

import math
from datetime import UTC, datetime, timedelta

import pytest

from store.entries import FaqDraft
from store.errors import AskNotFound, FaqNotFound, StoreValidationError
from store.faq_store import FaqStore
from store.records import AskRecord

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def ask(ask_id: str, question: str, answered: bool = False, minutes: int = 0,
        faq_id: int | None = None) -> AskRecord:
    return AskRecord(ask_id, question, answered, faq_id, 0.4, 0.75, T0 + timedelta(minutes=minutes))


def test_record_and_get_ask(faq_store: FaqStore) -> None:
    record = ask("a" * 32, "Where is my parcel?", answered=True, faq_id=3)
    assert faq_store.record_asks([record]) == 1
    assert faq_store.get_ask(record.ask_id) == record
    assert faq_store.record_asks([record]) == 0  # a retried flush does not duplicate
    with pytest.raises(AskNotFound):
        faq_store.get_ask("missing")


def test_record_asks_sanitises_instead_of_failing_the_batch(faq_store: FaqStore) -> None:
    weird = AskRecord("b1", "nul\x00 and \ud800", False, None, float("nan"), float("inf"), T0)
    assert faq_store.record_asks([weird, ask("b2", "fine")]) == 2
    stored = faq_store.get_ask("b1")
    assert "\x00" not in stored.question and stored.score is None and stored.threshold is None
    with pytest.raises(StoreValidationError):
        faq_store.record_asks([ask("", "empty id")])


def test_unanswered_groups_by_normalised_question_most_frequent_first(
    faq_store: FaqStore,
) -> None:
    faq_store.record_asks([
        ask("1", "How do I cancel?", minutes=0),
        ask("2", "how  do i CANCEL?", minutes=5),
        ask("3", "ＨＯＷ do I cancel?", minutes=1),
        ask("4", "Opening hours?", minutes=10),
        ask("5", "opening hours?", minutes=2),
        ask("6", "Refund?", minutes=20),
        ask("7", "How do I cancel?", answered=True, minutes=30, faq_id=1),  # answered: ignored
    ])
    top = faq_store.unanswered(limit=10)
    assert [(q.question, q.count) for q in top] == [
        ("how  do i CANCEL?", 3),  # most recent wording of the group
        ("Opening hours?", 2),
        ("Refund?", 1),
    ]
    assert top[0].last_asked_at == T0 + timedelta(minutes=5)
    assert [q.count for q in faq_store.unanswered(limit=1)] == [3]
    recent = faq_store.unanswered(since=T0 + timedelta(minutes=3))
    assert [(q.question, q.count) for q in recent] == [
        ("Refund?", 1), ("Opening hours?", 1), ("how  do i CANCEL?", 1)
    ]


def test_feedback_round_trip(faq_store: FaqStore) -> None:
    entry, other = faq_store.add([FaqDraft("q?", "a."), FaqDraft("r?", "b.")])
    faq_store.record_asks([ask("x1", "wrong one?", answered=True, faq_id=other.id), ask("x2", "?")])
    first = faq_store.add_feedback("x1", correct=False, faq_id=entry.id)
    second = faq_store.add_feedback("x2", correct=True)
    assert (first.question, first.answered_faq_id, first.faq_id) == (
        "wrong one?", other.id, entry.id
    )
    assert faq_store.list_feedback() == [first, second]
    assert faq_store.list_feedback(after_id=first.id) == [second]
    with pytest.raises(AskNotFound):
        faq_store.add_feedback("nope", correct=True)
    with pytest.raises(FaqNotFound):
        faq_store.add_feedback("x1", correct=False, faq_id=entry.id + 99)
    assert len(faq_store.list_feedback()) == 2


def test_feedback_that_calls_an_outcome_right_and_names_another_faq_is_refused(
    faq_store: FaqStore,
) -> None:
    first, second = faq_store.add([FaqDraft("q?", "a."), FaqDraft("r?", "b.")])
    faq_store.record_asks([ask("a1", "answered?", answered=True, faq_id=first.id),
                           ask("d1", "declined?")])
    # Naming the FAQ answered is only redundant: kept.
    assert faq_store.add_feedback("a1", correct=True, faq_id=first.id).faq_id == first.id
    with pytest.raises(StoreValidationError, match="answered with 1; name a FAQ only when"):
        faq_store.add_feedback("a1", correct=True, faq_id=second.id)
    with pytest.raises(StoreValidationError, match=r"answered with no FAQ \(it was declined\)"):
        faq_store.add_feedback("d1", correct=True, faq_id=first.id)
    assert len(faq_store.list_feedback()) == 1


def test_feedback_that_calls_an_outcome_wrong_and_names_the_faq_answered_is_refused(
    faq_store: FaqStore,
) -> None:
    first, second = faq_store.add([FaqDraft("q?", "a."), FaqDraft("r?", "b.")])
    faq_store.record_asks([ask("a1", "answered?", answered=True, faq_id=first.id)])
    with pytest.raises(StoreValidationError, match="contradicts correct=false: the ask was"):
        faq_store.add_feedback("a1", correct=False, faq_id=first.id)
    assert faq_store.add_feedback("a1", correct=False, faq_id=second.id).faq_id == second.id
    assert faq_store.add_feedback("a1", correct=False).faq_id is None
    assert len(faq_store.list_feedback()) == 2


def test_prune_asks_keeps_recent_asks_and_those_with_feedback(faq_store: FaqStore) -> None:
    faq_store.record_asks([ask("old", "old?", minutes=0), ask("old-fb", "old fb?", minutes=1),
                           ask("new", "new?", minutes=60)])
    faq_store.add_feedback("old-fb", correct=False)
    assert faq_store.prune_asks(T0 + timedelta(minutes=30)) == 1
    with pytest.raises(AskNotFound):
        faq_store.get_ask("old")
    assert faq_store.get_ask("old-fb").question == "old fb?"
    assert faq_store.get_ask("new").question == "new?"
    assert [f.ask_id for f in faq_store.list_feedback()] == ["old-fb"]


def scored(ask_id: str, question: str, score: float | None, service_threshold: float | None,
           minutes: int = 0) -> AskRecord:
    """A declined ask: the caller's threshold 0.9 applied, the service's beside it."""
    return AskRecord(ask_id, question, False, None, score, 0.9,
                     T0 + timedelta(minutes=minutes), service_threshold)


def test_unanswered_leaves_out_asks_declined_only_by_the_callers_stricter_threshold(
    faq_store: FaqStore,
) -> None:
    faq_store.record_asks([
        scored("strict", "Covered?", 0.8, 0.75),  # the service would have answered it
        scored("level", "Right at it?", 0.75, 0.75),  # >= answers, so also left out
        scored("below", "A gap?", 0.6, 0.75),
        scored("empty", "Empty store?", None, 0.75),  # no match at all: a gap
        scored("old", "Logged before 0002?", 0.8, None),  # unknown: counted, as before
        # One group: the latest ask was declined only by its caller, so the group's count,
        # time, wording and ask_id all come from the genuinely unanswered one.
        scored("gap", "Mixed group?", 0.5, 0.75, minutes=1),
        scored("covered", "MIXED group?", 0.8, 0.75, minutes=2),
    ])
    listed = {q.question: (q.count, q.ask_id, q.last_asked_at) for q in faq_store.unanswered()}
    assert listed == {
        "A gap?": (1, "below", T0),
        "Empty store?": (1, "empty", T0),
        "Logged before 0002?": (1, "old", T0),
        "Mixed group?": (1, "gap", T0 + timedelta(minutes=1)),
    }


def test_service_threshold_round_trips_and_non_finite_becomes_null(faq_store: FaqStore) -> None:
    faq_store.record_asks([scored("s1", "kept?", 0.5, 0.75), scored("s2", "nan?", 0.5, math.nan)])
    assert faq_store.get_ask("s1").service_threshold == 0.75
    assert faq_store.get_ask("s2").service_threshold is None
