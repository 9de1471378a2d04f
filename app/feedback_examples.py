"""Stored feedback as labelled questions: what the threshold tuner and the before/after
figure of a retrain are scored on.

A feedback row says what the right outcome of one ask was:
- correct, answered       → the FAQ it got;
- correct, declined       → no answer (declining was right);
- wrong, a FAQ was named  → that FAQ;
- wrong, answered, none named → no answer (it should have declined);
- wrong, declined, none named → unusable (we do not know which FAQ it wanted): skipped.
The latest feedback on an ask wins.
"""

from __future__ import annotations

from store.faq_store import FaqStore
from store.records import Feedback

_PAGE = 1000


def expected_faq(feedback: Feedback) -> tuple[bool, int | None]:
    """(usable, the FAQ id the ask should have got or None for no answer)."""
    if feedback.correct:
        return True, feedback.answered_faq_id
    if feedback.faq_id is not None:
        return True, feedback.faq_id
    return feedback.answered_faq_id is not None, None


def latest_feedback(store: FaqStore) -> list[Feedback]:
    """Each ask's latest feedback (an earlier one on the same ask is retracted by it), in
    the order those latest rows were given."""
    latest: dict[str, Feedback] = {}
    after: int | None = None
    while True:
        rows = store.list_feedback(limit=_PAGE, after_id=after)
        for row in rows:
            latest.pop(row.ask_id, None)  # re-inserted: the dict stays in feedback order
            latest[row.ask_id] = row
        if len(rows) < _PAGE:
            break
        after = rows[-1].id
    return list(latest.values())


def feedback_examples(store: FaqStore) -> list[tuple[str, int | None]]:
    """(question, expected FAQ id or None) per ask with usable feedback, oldest first;
    examples whose FAQ was deleted since are dropped (they cannot be scored)."""
    examples = [
        (row.question, faq_id)
        for row in latest_feedback(store)
        for usable, faq_id in [expected_faq(row)]
        if usable
    ]
    existing = store.exists({faq_id for _, faq_id in examples if faq_id is not None})
    return [(q, f) for q, f in examples if f is None or f in existing]
