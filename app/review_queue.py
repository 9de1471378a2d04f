"""The review queue of the console's Unanswered page: questions that need an FAQ author.

Two sources, one list: questions asked below the service's threshold (most frequent first;
not those declined only by a caller's stricter `threshold`, see AskLog.unanswered), then
asks whose latest feedback marked the answer wrong and named a better FAQ (newest first).
When the two kinds hold more than `limit` items together, each gets up to half of `limit`
(the odd one to the unanswered) and a share one kind leaves unused passes to the other: a
busy day of declined questions must not push the explicit reports out of the page.

A question is handled, and leaves the queue, once it is one of the stored phrasings (a FAQ
question or alternate, compared as the ask log groups questions), which is what "add as
alternate" and "new FAQ" do, or once feedback said that declining it was right ("should not
be answered", which is also a tuning example). So handling needs no state of its own: any
other way of adding the phrasing (PATCH /faq, an import) or of giving that feedback also
clears it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.feedback_examples import latest_feedback
from app.service import Service
from store.ask_log import question_key

# Unanswered groups read before the handled ones are filtered out: enough that a queue of
# `limit` survives a busy day of already-handled questions.
_SCAN = 1000


@dataclass(frozen=True)
class Suggestion:
    faq_id: int
    question: str  # the FAQ's own question (what an author recognises)
    matched: str  # the phrasing that matched
    score: float | None  # None: the FAQ a user named, which the model did not rank near


@dataclass(frozen=True)
class QueueItem:
    kind: str  # "unanswered" | "wrong_answer"
    question: str
    ask_id: str
    count: int
    last_asked_at: datetime
    named_faq_id: int | None  # wrong_answer: the FAQ named as right (None once it is deleted)
    answered_faq_id: int | None  # wrong_answer: what the service answered
    suggestions: list[Suggestion]


def review_queue(service: Service, limit: int, suggestions: int) -> list[QueueItem]:
    """Up to `limit` unhandled questions (shared between the kinds, see the module), each with
    at most `suggestions` FAQs: the one a wrong-answer feedback named first, then the nearest."""
    handled = {question_key(text) for entry in service.store.iter_entries()
               for text in entry.phrasings}
    service.ask_log.flush()
    rightly_declined, wrong = _feedback(service)
    handled |= rightly_declined
    unanswered: list[QueueItem] = []
    for row in service.store.unanswered(limit=_SCAN):
        if question_key(row.question) not in handled:
            handled.add(question_key(row.question))
            unanswered.append(QueueItem("unanswered", row.question, row.ask_id, row.count,
                                        row.last_asked_at, None, None, []))
    reported = [item for key, item in wrong if key not in handled]
    return [_with_suggestions(service, item, suggestions)
            for item in _share(unanswered, reported, limit)]


def _share(unanswered: list[QueueItem], wrong: list[QueueItem], limit: int) -> list[QueueItem]:
    """`limit` items, half to each kind (the odd one to the unanswered); a share one kind
    cannot fill goes to the other."""
    n_wrong = min(len(wrong), max(limit // 2, limit - len(unanswered)))
    return unanswered[:limit - n_wrong] + wrong[:n_wrong]


def _feedback(service: Service) -> tuple[set[str], list[tuple[str, QueueItem]]]:
    """(questions whose declining feedback called right, feedback "wrong, FAQ n was right"
    as (question key, item) newest first, one per question). Only each ask's latest feedback
    counts, as for tuning examples (app.feedback_examples): "correct" after "wrong" retracts."""
    declined: set[str] = set()
    found: dict[str, QueueItem] = {}
    for row in latest_feedback(service.store):
        key = question_key(row.question)
        if row.correct and row.answered_faq_id is None:
            declined.add(key)
        if row.correct or row.faq_id is None:
            continue
        earlier = found.pop(key, None)
        found[key] = QueueItem("wrong_answer", row.question, row.ask_id,
                               1 + (earlier.count if earlier else 0), row.created_at,
                               row.faq_id, row.answered_faq_id, [])
    return declined, list(reversed(found.items()))


def _with_suggestions(service: Service, item: QueueItem, k: int) -> QueueItem:
    """`item` with at most `k` suggestions: the named FAQ first (scored if the model ranked it
    among the top `k`), then the best others. A named FAQ deleted since the feedback comes
    back as none: the console would offer to add the question to a FAQ that is gone."""
    named = item.named_faq_id
    matches = service.searcher.search(item.question, k) if k else []
    entries = service.store.get_many(
        [m.faq_id for m in matches] + ([named] if named is not None else [])
    )
    if named is not None and named not in entries:
        named = None
    suggested = [
        Suggestion(m.faq_id, entries[m.faq_id].question, m.question, float(m.score))
        for m in matches if m.faq_id in entries and m.faq_id != named
    ]
    if named is not None and k:
        ranked = next((m for m in matches if m.faq_id == named), None)
        first = (Suggestion(named, entries[named].question, ranked.question, float(ranked.score))
                 if ranked is not None
                 # The model did not rank it near: unscored, its own question as the match.
                 else Suggestion(named, entries[named].question, entries[named].question, None))
        suggested.insert(0, first)
    return QueueItem(item.kind, item.question, item.ask_id, item.count, item.last_asked_at,
                     named, item.answered_faq_id, suggested[:k])
