"""AskLog: the `asks` and `feedback` tables (what was asked, what users said of the answer).

The app writes asks in batches (app/ask_log.py); feedback refers to a logged ask, and
`prune_asks` keeps the log from growing forever while keeping asks that have feedback.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, exists, func, insert, or_, select, text

from store import schema as t
from store.checks import as_utc, bounded, check_limit, utc_now, valid_id, valid_key
from store.errors import AskNotFound, FaqNotFound, StoreValidationError
from store.records import AskRecord, Feedback, UnansweredQuestion
from store.transactions import Transactions


def question_key(question: str) -> str:
    """How the ask log groups questions: NFKC, case-folded, whitespace folded."""
    return " ".join(unicodedata.normalize("NFKC", question).casefold().split())


class AskLog:
    """Asks and feedback; thread-safe (FaqStore builds one over its engine)."""

    def __init__(self, transactions: Transactions) -> None:
        self._transactions = transactions

    def record_asks(self, records: Sequence[AskRecord]) -> int:
        """Insert a batch of ask records in one transaction; an ask_id already stored is
        skipped (a retried flush is harmless). Returns how many were new."""
        rows = [_ask_row(record) for record in records]
        if not rows:
            return 0
        with self._transactions.write() as connection:
            # The driver's own executemany: the flush shares the GIL with /ask, and Core's
            # INSERT .. RETURNING path cost ~0.9 ms more of it per 128 asks (SQLite; ~2.5 ms
            # on PostgreSQL). DateTime still goes through the column's bind processor, so
            # the stored form is Core's. Both drivers sum executemany's rowcount.
            dialect = connection.dialect
            bind_time = t.asks.c.asked_at.type.bind_processor(dialect)
            if bind_time is not None:
                for row in rows:
                    row["asked_at"] = bind_time(row["asked_at"])
            cursor = connection.connection.driver_connection.cursor()
            try:
                cursor.executemany(_insert_asks_sql(dialect.name), [
                    tuple(row[name] for name in _ASK_COLUMNS) for row in rows
                ])
                return cursor.rowcount
            finally:
                cursor.close()

    def get_ask(self, ask_id: str) -> AskRecord:
        if not valid_key(ask_id, 64):
            raise AskNotFound(ask_id)
        with self._transactions.read() as connection:
            row = connection.execute(select(t.asks).where(t.asks.c.ask_id == ask_id)).first()
        if row is None:
            raise AskNotFound(ask_id)
        return AskRecord(
            row.ask_id, row.question, row.answered, row.faq_id, row.score, row.threshold,
            as_utc(row.asked_at), row.service_threshold,
        )

    def add_feedback(self, ask_id: str, correct: bool, faq_id: int | None = None) -> Feedback:
        """Store feedback on a logged ask; raises AskNotFound / FaqNotFound (for faq_id).

        The app buffers ask records: flush them before feedback can refer to a recent ask.
        """
        if not isinstance(correct, bool):
            raise StoreValidationError("correct", "must be true or false")
        if not valid_key(ask_id, 64):
            raise AskNotFound(ask_id)
        with self._transactions.write() as connection:
            ask = connection.execute(
                select(t.asks.c.question, t.asks.c.faq_id).where(t.asks.c.ask_id == ask_id)
            ).first()
            if ask is None:
                raise AskNotFound(ask_id)
            if correct and faq_id is not None and faq_id != ask.faq_id:
                # faq_id names the FAQ a wrong outcome should have been; on a right one it
                # could only repeat the FAQ answered, and anything else contradicts it.
                answered = "no FAQ (it was declined)" if ask.faq_id is None else ask.faq_id
                raise StoreValidationError(
                    "faq_id",
                    f"contradicts correct=true: the ask was answered with {answered}; "
                    "name a FAQ only when the outcome was wrong",
                )
            if not correct and faq_id is not None and faq_id == ask.faq_id:
                # As a tuning example it would read "should get the FAQ answered": a right
                # answer counted from a report that it was wrong.
                raise StoreValidationError(
                    "faq_id",
                    f"contradicts correct=false: the ask was answered with {faq_id}; "
                    "name the FAQ that should have answered, or none",
                )
            if faq_id is not None:
                _require_faq(connection, faq_id)
            now = utc_now()
            feedback_id = connection.execute(
                insert(t.feedback)
                .values(ask_id=ask_id, correct=correct, faq_id=faq_id, created_at=now)
                .returning(t.feedback.c.id)
            ).scalar_one()
        return Feedback(feedback_id, ask_id, ask.question, correct, faq_id, ask.faq_id, now)

    def list_feedback(self, *, limit: int = 100, after_id: int | None = None) -> list[Feedback]:
        """Feedback by ascending id (keyset paging with after_id)."""
        check_limit(limit, 10_000)
        query = (
            select(
                t.feedback.c.id, t.feedback.c.ask_id, t.asks.c.question, t.feedback.c.correct,
                t.feedback.c.faq_id, t.asks.c.faq_id.label("answered_faq_id"),
                t.feedback.c.created_at,
            )
            .join(t.asks, t.asks.c.ask_id == t.feedback.c.ask_id)
            .order_by(t.feedback.c.id)
            .limit(limit)
        )
        if bounded(after_id, "after_id") is not None:
            query = query.where(t.feedback.c.id > after_id)
        with self._transactions.read() as connection:
            rows = connection.execute(query).all()
        return [
            Feedback(r.id, r.ask_id, r.question, r.correct, r.faq_id, r.answered_faq_id,
                     as_utc(r.created_at))
            for r in rows
        ]

    def unanswered(
        self, limit: int = 50, since: datetime | None = None
    ) -> list[UnansweredQuestion]:
        """Questions the service would not have answered, grouped by normalised text, most
        frequent first. An ask whose best score reached the service's threshold was declined
        only by the caller's stricter one: no gap in the FAQs, so it is left out (asks logged
        without the service's threshold count, as they always did)."""
        check_limit(limit, 1000)
        asks = t.asks.c
        filters = [
            asks.answered.is_(False),
            or_(asks.score.is_(None), asks.service_threshold.is_(None),
                asks.score < asks.service_threshold),
        ]
        if since is not None:
            filters.append(asks.asked_at >= as_utc(since))
        grouped = (
            select(
                t.asks.c.question_key,
                func.count().label("n"),
                func.max(t.asks.c.asked_at).label("last_asked_at"),
            )
            .where(*filters)
            .group_by(t.asks.c.question_key)
            .order_by(text("n DESC"), text("last_asked_at DESC"), t.asks.c.question_key)
            .limit(limit)
        )
        with self._transactions.read() as connection:
            groups = connection.execute(grouped).all()
            result = []
            for group in groups:
                latest = connection.execute(
                    select(t.asks.c.question, t.asks.c.ask_id)
                    .where(*filters, t.asks.c.question_key == group.question_key)
                    .order_by(t.asks.c.asked_at.desc(), t.asks.c.ask_id)
                    .limit(1)
                ).one()
                result.append(UnansweredQuestion(
                    latest.question, group.n, as_utc(group.last_asked_at), latest.ask_id
                ))
        return result

    def prune_asks(self, before: datetime) -> int:
        """Delete logged asks older than `before` that have no feedback (feedback is kept with
        its ask: it is tuning data). Returns how many were deleted. The service calls this
        periodically with its retention setting (app/ask_log.py)."""
        with self._transactions.write() as connection:
            result = connection.execute(
                delete(t.asks).where(
                    t.asks.c.asked_at < as_utc(before),
                    ~exists().where(t.feedback.c.ask_id == t.asks.c.ask_id),
                )
            )
            return result.rowcount


def _require_faq(connection: Connection, faq_id: int) -> None:
    """Raise FaqNotFound unless the entry exists (inside the feedback transaction)."""
    if not valid_id(faq_id):
        raise FaqNotFound(faq_id)
    found = connection.execute(
        select(t.faq_entries.c.id).where(t.faq_entries.c.id == faq_id)
    ).first()
    if found is None:
        raise FaqNotFound(faq_id)


_ASK_COLUMNS = tuple(column.name for column in t.asks.columns)


def _insert_asks_sql(dialect_name: str) -> str:
    """An INSERT of `_ASK_COLUMNS` that skips an ask_id already stored (a retried flush)."""
    columns = ", ".join(_ASK_COLUMNS)
    if dialect_name == "sqlite":
        values = ", ".join("?" * len(_ASK_COLUMNS))
        return f"INSERT OR IGNORE INTO asks ({columns}) VALUES ({values})"
    values = ", ".join(["%s"] * len(_ASK_COLUMNS))
    return f"INSERT INTO asks ({columns}) VALUES ({values}) ON CONFLICT (ask_id) DO NOTHING"


def _ask_row(record: AskRecord) -> dict[str, Any]:
    if not valid_key(record.ask_id, 64):
        raise StoreValidationError("ask_id", "must be 1..64 characters, no NUL/surrogates")
    if record.faq_id is not None and not valid_id(record.faq_id):
        raise StoreValidationError("faq_id", "must be a positive int64 or None")
    question = _loggable(record.question)
    return {
        "ask_id": record.ask_id,
        "question": question,
        "question_key": question_key(question),
        "answered": bool(record.answered),
        "faq_id": record.faq_id,
        "score": _finite(record.score),
        "threshold": _finite(record.threshold),
        "service_threshold": _finite(record.service_threshold),
        "asked_at": as_utc(record.asked_at),
    }


def _finite(value: float | None) -> float | None:
    """NaN and infinities are stored as NULL: the same on both backends (SQLite has no NaN)."""
    return value if value is not None and math.isfinite(value) else None


def _loggable(question: str) -> str:
    # The log must never fail a flush: PostgreSQL rejects NUL and lone surrogates, so
    # replace them (the app already refuses such questions; this is defence in depth).
    cleaned = question.replace("\x00", "\ufffd")
    return cleaned.encode("utf-8", "replace").decode("utf-8")[:2000]
