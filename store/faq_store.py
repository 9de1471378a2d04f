"""FaqStore: FAQ CRUD with a revision log, settings, and the ask/feedback log, over SQLAlchemy.

Every FAQ write transaction starts by bumping the single `store_state.revision` row
(`UPDATE ... RETURNING`), so writers serialise on that row lock (SQLite: BEGIN IMMEDIATE too)
and revisions commit strictly in order: a reader that has seen revision N has seen every
change <= N. Each touched entry gets a `faq_changes` row and its `revision` column set, in the
same transaction.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Row,
    delete,
    exists,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from store import schema as t
from store.engine import SQLITE_BEGIN, create_store_engine, is_sqlite
from store.entries import FaqDraft, FaqEntry, FaqPatch, clean_text
from store.errors import AskNotFound, FaqNotFound, StoreUnavailable, StoreValidationError
from store.migrate import ensure_schema
from store.records import (
    AskRecord,
    ChangeSet,
    Feedback,
    Page,
    StoreVersions,
    UnansweredQuestion,
)

MAX_PAGE = 100
INT64_MAX = 2**63 - 1
_INSERT_CHUNK = 1000
THRESHOLD_KEY = "threshold"
ACTIVE_MODEL_KEY = "active_model"


def utc_now() -> datetime:
    return datetime.now(UTC)


def question_key(question: str) -> str:
    """How the ask log groups questions: NFKC, case-folded, whitespace folded."""
    return " ".join(unicodedata.normalize("NFKC", question).casefold().split())


class FaqStore:
    """The source of truth. Thread-safe; one per process (each process opens its own)."""

    def __init__(self, url: str, *, upgrade: bool = True) -> None:
        self.url = url
        self._engine = create_store_engine(url)
        try:
            self.schema_revision = ensure_schema(self._engine, upgrade=upgrade)
        except (OperationalError, InterfaceError) as error:
            self._engine.dispose()
            raise StoreUnavailable(_reason(error)) from error
        except BaseException:
            self._engine.dispose()
            raise
        self._writer = self._engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        # One snapshot per read on PostgreSQL (SQLite WAL readers get one per transaction).
        self._reader = (
            self._engine
            if is_sqlite(self._engine)
            else self._engine.execution_options(isolation_level="REPEATABLE READ")
        )

    def close(self) -> None:
        self._engine.dispose()

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    # ---- transactions -------------------------------------------------------------------

    @contextmanager
    def _faq_write(self) -> Iterator[tuple[Connection, int]]:
        """A write transaction holding the next revision (the counter row stays locked)."""
        with _transaction(self._writer) as connection:
            yield connection, _bump_counter(connection, t.store_state.c.revision)

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with _transaction(self._reader) as connection:
            yield connection

    # ---- FAQ writes ---------------------------------------------------------------------

    def add(
        self, drafts: Sequence[FaqDraft], *, on_progress: Callable[[int], None] | None = None
    ) -> list[FaqEntry]:
        """Insert all drafts atomically under one new revision; returns them with their ids."""
        return self.add_batch(drafts, on_progress=on_progress).entries

    def add_batch(
        self, drafts: Sequence[FaqDraft], *, on_progress: Callable[[int], None] | None = None
    ) -> WriteResult:
        """`add`, also returning the revision; on_progress(n) after each chunk of n rows."""
        drafts = list(drafts)
        if not drafts:
            return WriteResult([], None)
        entries: list[FaqEntry] = []
        with self._faq_write() as (connection, revision):
            # Chunks keep statements and memory bounded; still one transaction.
            for start in range(0, len(drafts), _INSERT_CHUNK):
                chunk = drafts[start : start + _INSERT_CHUNK]
                entries += self._insert(connection, revision, chunk)
                if on_progress is not None:
                    on_progress(len(chunk))
        return WriteResult(entries, revision)

    def _insert(
        self, connection: Connection, revision: int, drafts: Sequence[FaqDraft]
    ) -> list[FaqEntry]:
        now = utc_now()
        rows = [
            {
                "question": d.question,
                "answer": d.answer,
                "alternates": list(d.alternates),
                "tags": list(d.tags),
                "created_at": now,
                "updated_at": now,
                "revision": revision,
            }
            for d in drafts
        ]
        ids = connection.execute(
            insert(t.faq_entries).returning(t.faq_entries.c.id, sort_by_parameter_order=True),
            rows,
        ).scalars().all()
        entries = [
            FaqEntry(faq_id, d.question, d.answer, d.alternates, d.tags, now, now)
            for faq_id, d in zip(ids, drafts, strict=True)
        ]
        self._write_tags(connection, [(e.id, e.tags) for e in entries])
        self._log(connection, revision, [e.id for e in entries], "upsert", now)
        return entries

    def update(self, faq_id: int, change: FaqDraft | FaqPatch) -> FaqEntry:
        """Replace the entry (FaqDraft) or patch some fields (FaqPatch); raises FaqNotFound."""
        with self._faq_write() as (connection, revision):
            current = self._get(connection, faq_id)  # writers are serialised: no race
            draft = change.apply_to(current) if isinstance(change, FaqPatch) else change
            now = utc_now()
            connection.execute(
                update(t.faq_entries)
                .where(t.faq_entries.c.id == faq_id)
                .values(
                    question=draft.question,
                    answer=draft.answer,
                    alternates=list(draft.alternates),
                    tags=list(draft.tags),
                    updated_at=now,
                    revision=revision,
                )
            )
            connection.execute(delete(t.faq_tags).where(t.faq_tags.c.faq_id == faq_id))
            self._write_tags(connection, [(faq_id, draft.tags)])
            self._log(connection, revision, [faq_id], "upsert", now)
            return FaqEntry(
                faq_id, draft.question, draft.answer, draft.alternates, draft.tags,
                current.created_at, now,
            )

    def delete(self, faq_id: int) -> None:
        """Delete one entry; raises FaqNotFound (and bumps nothing) if it does not exist."""
        self.delete_many([faq_id])

    def delete_many(self, faq_ids: Iterable[int]) -> None:
        """Delete several entries atomically; raises FaqNotFound for the first missing id."""
        wanted = list(dict.fromkeys(faq_ids))
        if not wanted:
            return
        for faq_id in wanted:
            if not _valid_id(faq_id):
                raise FaqNotFound(faq_id)
        with self._faq_write() as (connection, revision):
            found = set(
                connection.execute(
                    select(t.faq_entries.c.id).where(t.faq_entries.c.id.in_(wanted))
                ).scalars()
            )
            missing = [faq_id for faq_id in wanted if faq_id not in found]
            if missing:
                raise FaqNotFound(missing[0])  # rolls back the revision bump too
            connection.execute(delete(t.faq_entries).where(t.faq_entries.c.id.in_(wanted)))
            self._log(connection, revision, wanted, "delete", utc_now())

    def _write_tags(
        self, connection: Connection, tagged: list[tuple[int, tuple[str, ...]]]
    ) -> None:
        rows = [{"faq_id": faq_id, "tag": tag} for faq_id, tags in tagged for tag in tags]
        if rows:
            connection.execute(insert(t.faq_tags), rows)

    def _log(
        self, connection: Connection, revision: int, faq_ids: list[int], op: str, now: datetime
    ) -> None:
        connection.execute(
            insert(t.faq_changes),
            [{"revision": revision, "faq_id": i, "op": op, "changed_at": now} for i in faq_ids],
        )

    # ---- FAQ reads ----------------------------------------------------------------------

    def get(self, faq_id: int) -> FaqEntry:
        with self._read() as connection:
            return self._get(connection, faq_id)

    def get_many(self, faq_ids: Iterable[int]) -> dict[int, FaqEntry]:
        """The entries that exist among faq_ids, by id (missing ids are simply absent)."""
        wanted = [faq_id for faq_id in dict.fromkeys(faq_ids) if _valid_id(faq_id)]
        found: dict[int, FaqEntry] = {}
        with self._read() as connection:
            for start in range(0, len(wanted), 1000):  # bounded IN lists
                chunk = wanted[start : start + 1000]
                rows = connection.execute(
                    select(t.faq_entries).where(t.faq_entries.c.id.in_(chunk))
                )
                found.update((row.id, _entry(row)) for row in rows)
        return found

    def _get(self, connection: Connection, faq_id: int) -> FaqEntry:
        if not _valid_id(faq_id):
            raise FaqNotFound(faq_id)
        query = select(t.faq_entries).where(t.faq_entries.c.id == faq_id)
        row = connection.execute(query).first()
        if row is None:
            raise FaqNotFound(faq_id)
        return _entry(row)

    def exists(self, faq_ids: Iterable[int]) -> set[int]:
        """The subset of faq_ids that exist (e.g. to validate tuning examples)."""
        return set(self.get_many(faq_ids))

    def list_page(
        self,
        *,
        limit: int = 50,
        after_id: int | None = None,
        offset: int | None = None,
        tags: Sequence[str] = (),
    ) -> Page:
        """Entries by ascending id; keyset (after_id) or offset paging; `tags`: must have all."""
        _check_limit(limit, MAX_PAGE)
        after_id = _bounded(after_id, "after_id")
        offset = _bounded(offset, "offset")
        if offset is not None and after_id is not None:
            raise StoreValidationError("offset", "use either offset or after_id, not both")
        wanted_tags = [clean_text(tag, f"tags[{i}]", 50) for i, tag in enumerate(tags)]
        filters = [
            exists().where(t.faq_tags.c.faq_id == t.faq_entries.c.id, t.faq_tags.c.tag == tag)
            for tag in dict.fromkeys(wanted_tags)
        ]
        with self._read() as connection:
            total = connection.execute(
                select(func.count()).select_from(t.faq_entries).where(*filters)
            ).scalar_one()
            query = select(t.faq_entries).where(*filters).order_by(t.faq_entries.c.id)
            if after_id is not None:
                query = query.where(t.faq_entries.c.id > after_id)
            if offset:
                query = query.offset(offset)
            rows = connection.execute(query.limit(limit + 1)).all()
        entries = [_entry(row) for row in rows[:limit]]
        next_after_id = entries[-1].id if len(rows) > limit else None
        return Page(entries, total, next_after_id)

    def iter_entries(self, batch_size: int = 1000) -> Iterator[FaqEntry]:
        """Every entry by id, in short read transactions of batch_size (for index rebuilds).

        Not one snapshot: read `revision()` BEFORE iterating and apply `changes_since()` of it
        afterwards; anything changed meanwhile is then re-applied at its current state.
        """
        after_id = 0
        while True:
            with self._read() as connection:
                rows = connection.execute(
                    select(t.faq_entries)
                    .where(t.faq_entries.c.id > after_id)
                    .order_by(t.faq_entries.c.id)
                    .limit(batch_size)
                ).all()
            if not rows:
                return
            for row in rows:
                yield _entry(row)
            after_id = rows[-1].id

    @contextmanager
    def snapshot(self, batch_size: int = 1000) -> Iterator[Snapshot]:
        """One read transaction (a consistent view) for exports: revision, count, entries."""
        with self._read() as connection:
            state = connection.execute(select(t.store_state.c.revision)).scalar_one()
            total = connection.execute(
                select(func.count()).select_from(t.faq_entries)
            ).scalar_one()
            yield Snapshot(state, total, connection, batch_size)

    def count(self) -> int:
        with self._read() as connection:
            return connection.execute(
                select(func.count()).select_from(t.faq_entries)
            ).scalar_one()

    # ---- revisions ----------------------------------------------------------------------

    def revision(self) -> int:
        return self.versions().revision

    def versions(self) -> StoreVersions:
        """FAQ revision and settings version in one cheap query (what pollers call)."""
        with self._read() as connection:
            row = connection.execute(
                select(t.store_state.c.revision, t.store_state.c.settings_version)
            ).one()
        return StoreVersions(row.revision, row.settings_version)

    def store_id(self) -> str:
        """Random id fixed when the database was created: tells databases apart."""
        with self._read() as connection:
            return connection.execute(select(t.store_state.c.store_id)).scalar_one()

    def changes_since(self, revision: int) -> ChangeSet:
        """What changed after `revision`, from one snapshot; `.revision` is the store's now.

        A `revision` above the store's means the caller's state came from another database
        (or one restored from backup): the caller should rebuild rather than apply this.
        """
        _bounded(revision, "revision")
        with self._read() as connection:
            current = connection.execute(select(t.store_state.c.revision)).scalar_one()
            if revision >= current:
                return ChangeSet(current, [], [])
            rows = connection.execute(
                select(t.faq_entries)
                .where(t.faq_entries.c.revision > revision)
                .order_by(t.faq_entries.c.id)
            ).all()
            deleted = connection.execute(
                select(t.faq_changes.c.faq_id)
                .where(t.faq_changes.c.revision > revision, t.faq_changes.c.op == "delete")
                .distinct()
                .order_by(t.faq_changes.c.faq_id)
            ).scalars().all()
        # Ids are never reused, so a deleted id cannot also be upserted.
        return ChangeSet(current, [_entry(row) for row in rows], list(deleted))

    # ---- settings -----------------------------------------------------------------------

    def get_setting(self, key: str, default: Any = None) -> Any:
        if not _valid_key(key, 100):
            return default
        with self._read() as connection:
            value = connection.execute(
                select(t.settings.c.value).where(t.settings.c.key == key)
            ).scalar_one_or_none()
        return default if value is None else json.loads(value)

    def set_setting(self, key: str, value: Any) -> int:
        """Store a JSON-serialisable value; bumps settings_version (returned) for pollers."""
        if not _valid_key(key, 100):
            raise StoreValidationError("key", "must be 1..100 characters, no NUL/surrogates")
        try:
            encoded = json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise StoreValidationError(key, f"not storable as JSON: {error}") from None
        with _transaction(self._writer) as connection:
            version = _bump_counter(connection, t.store_state.c.settings_version)
            values = {"key": key, "value": encoded, "updated_at": utc_now()}
            upsert = _insert_for(connection)(t.settings).values(values)
            connection.execute(
                upsert.on_conflict_do_update(
                    index_elements=["key"],
                    set_={"value": encoded, "updated_at": values["updated_at"]},
                )
            )
            return version

    def get_threshold(self) -> float | None:
        """The global answer threshold, or None if never set (the app then uses its default)."""
        value = self.get_setting(THRESHOLD_KEY)
        return None if value is None else float(value)

    def set_threshold(self, threshold: float) -> int:
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise StoreValidationError("threshold", "must be a number")
        if not math.isfinite(threshold) or not -1.0 <= threshold <= 1.0:
            raise StoreValidationError("threshold", "must be a finite number in [-1, 1]")
        return self.set_setting(THRESHOLD_KEY, float(threshold))

    def get_active_model(self) -> str | None:
        """Content hash of the encoder checkpoint the service should serve (None: not set)."""
        return self.get_setting(ACTIVE_MODEL_KEY)

    def set_active_model(self, content_hash: str) -> int:
        if not isinstance(content_hash, str) or not 1 <= len(content_hash) <= 128:
            raise StoreValidationError("active_model", "must be a 1..128 character hash")
        return self.set_setting(ACTIVE_MODEL_KEY, content_hash)

    # ---- ask log and feedback -----------------------------------------------------------

    def record_asks(self, records: Sequence[AskRecord]) -> int:
        """Insert a batch of ask records in one transaction; an ask_id already stored is
        skipped (a retried flush is harmless). Returns how many were new."""
        rows = [_ask_row(record) for record in records]
        if not rows:
            return 0
        with _transaction(self._writer) as connection:
            statement = (
                _insert_for(connection)(t.asks)
                .on_conflict_do_nothing(index_elements=["ask_id"])
                .returning(t.asks.c.ask_id)
            )
            # Count RETURNING rows: executemany rowcount is -1 on some drivers.
            return len(connection.execute(statement, rows).all())

    def get_ask(self, ask_id: str) -> AskRecord:
        if not _valid_key(ask_id, 64):
            raise AskNotFound(ask_id)
        with self._read() as connection:
            row = connection.execute(select(t.asks).where(t.asks.c.ask_id == ask_id)).first()
        if row is None:
            raise AskNotFound(ask_id)
        return AskRecord(
            row.ask_id, row.question, row.answered, row.faq_id, row.score, row.threshold,
            _utc(row.asked_at),
        )

    def add_feedback(self, ask_id: str, correct: bool, faq_id: int | None = None) -> Feedback:
        """Store feedback on a logged ask; raises AskNotFound / FaqNotFound (for faq_id).

        The app buffers ask records: flush them before feedback can refer to a recent ask.
        """
        if not isinstance(correct, bool):
            raise StoreValidationError("correct", "must be true or false")
        if not _valid_key(ask_id, 64):
            raise AskNotFound(ask_id)
        with _transaction(self._writer) as connection:
            ask = connection.execute(
                select(t.asks.c.question, t.asks.c.faq_id).where(t.asks.c.ask_id == ask_id)
            ).first()
            if ask is None:
                raise AskNotFound(ask_id)
            if faq_id is not None:
                self._get(connection, faq_id)
            now = utc_now()
            feedback_id = connection.execute(
                insert(t.feedback)
                .values(ask_id=ask_id, correct=correct, faq_id=faq_id, created_at=now)
                .returning(t.feedback.c.id)
            ).scalar_one()
        return Feedback(feedback_id, ask_id, ask.question, correct, faq_id, ask.faq_id, now)

    def list_feedback(self, *, limit: int = 100, after_id: int | None = None) -> list[Feedback]:
        """Feedback by ascending id (keyset paging with after_id)."""
        _check_limit(limit, 10_000)
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
        if _bounded(after_id, "after_id") is not None:
            query = query.where(t.feedback.c.id > after_id)
        with self._read() as connection:
            rows = connection.execute(query).all()
        return [
            Feedback(r.id, r.ask_id, r.question, r.correct, r.faq_id, r.answered_faq_id,
                     _utc(r.created_at))
            for r in rows
        ]

    def unanswered(
        self, limit: int = 50, since: datetime | None = None
    ) -> list[UnansweredQuestion]:
        """Questions that were not answered, grouped by normalised text, most frequent first."""
        _check_limit(limit, 1000)
        filters = [t.asks.c.answered.is_(False)]
        if since is not None:
            filters.append(t.asks.c.asked_at >= _utc(since))
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
        with self._read() as connection:
            groups = connection.execute(grouped).all()
            result = []
            for group in groups:
                wording = connection.execute(
                    select(t.asks.c.question)
                    .where(*filters, t.asks.c.question_key == group.question_key)
                    .order_by(t.asks.c.asked_at.desc())
                    .limit(1)
                ).scalar_one()
                result.append(
                    UnansweredQuestion(wording, group.n, _utc(group.last_asked_at))
                )
        return result

    def prune_asks(self, before: datetime) -> int:
        """Delete logged asks older than `before` that have no feedback (feedback is kept with
        its ask: it is tuning data). Returns how many were deleted. The log grows with every
        /ask, so the service should call this periodically."""
        with _transaction(self._writer) as connection:
            result = connection.execute(
                delete(t.asks).where(
                    t.asks.c.asked_at < _utc(before),
                    ~exists().where(t.feedback.c.ask_id == t.asks.c.ask_id),
                )
            )
            return result.rowcount

    # ---- health -------------------------------------------------------------------------

    def ping(self) -> bool:
        """True when the database answers (for readiness checks); never raises."""
        try:
            with self._engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
            return True
        except Exception:  # noqa: BLE001 — any failure means "not ready"
            return False


@dataclass(frozen=True)
class WriteResult:
    entries: list[FaqEntry]
    revision: int | None  # None when nothing was written


class Snapshot:
    """A consistent view of the entries, valid inside `FaqStore.snapshot()` only."""

    def __init__(self, revision: int, count: int, connection: Connection, batch_size: int):
        self.revision = revision
        self.count = count
        self._connection = connection
        self._batch_size = batch_size

    def entries(self) -> Iterator[FaqEntry]:
        after_id = 0
        while True:
            rows = self._connection.execute(
                select(t.faq_entries)
                .where(t.faq_entries.c.id > after_id)
                .order_by(t.faq_entries.c.id)
                .limit(self._batch_size)
            ).all()
            if not rows:
                return
            yield from (_entry(row) for row in rows)
            after_id = rows[-1].id


@contextmanager
def _transaction(engine: Engine) -> Iterator[Connection]:
    """engine.begin(), with "cannot reach / locked too long" turned into StoreUnavailable."""
    try:
        with engine.begin() as connection:
            yield connection
    except (OperationalError, InterfaceError) as error:
        raise StoreUnavailable(_reason(error)) from error


def _reason(error: DBAPIError) -> str:
    detail = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
    return f"database unavailable: {detail}"


def _valid_id(faq_id: object) -> bool:
    # Out-of-range ints would reach the driver and fail as a database error, not "not found".
    return isinstance(faq_id, int) and not isinstance(faq_id, bool) and 1 <= faq_id <= INT64_MAX


def _bounded(value: int | None, field_name: str) -> int | None:
    """A cursor/revision argument: None, or an int in [0, INT64_MAX]."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= INT64_MAX:
        raise StoreValidationError(field_name, f"must be an integer in [0, {INT64_MAX}]")
    return value


def _check_limit(limit: object, maximum: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= maximum:
        raise StoreValidationError("limit", f"must be an integer between 1 and {maximum}")


def _valid_key(value: object, max_chars: int) -> bool:
    return (
        isinstance(value, str) and 1 <= len(value) <= max_chars and "\x00" not in value
        and not any("\ud800" <= char <= "\udfff" for char in value)
    )


def _entry(row: Row) -> FaqEntry:
    return FaqEntry(
        id=row.id,
        question=row.question,
        answer=row.answer,
        alternates=tuple(row.alternates),
        tags=tuple(row.tags),
        created_at=_utc(row.created_at),
        updated_at=_utc(row.updated_at),
    )


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _insert_for(connection: Connection):  # noqa: ANN202 — dialect-specific Insert factory
    return sqlite.insert if connection.dialect.name == "sqlite" else postgresql.insert


def _ask_row(record: AskRecord) -> dict[str, Any]:
    if not _valid_key(record.ask_id, 64):
        raise StoreValidationError("ask_id", "must be 1..64 characters, no NUL/surrogates")
    if record.faq_id is not None and not _valid_id(record.faq_id):
        raise StoreValidationError("faq_id", "must be a positive int64 or None")
    question = _loggable(record.question)
    score = record.score if record.score is not None and math.isfinite(record.score) else None
    threshold = record.threshold
    if threshold is not None and not math.isfinite(threshold):
        threshold = None
    return {
        "ask_id": record.ask_id,
        "question": question,
        "question_key": question_key(question),
        "answered": bool(record.answered),
        "faq_id": record.faq_id,
        "score": score,
        "threshold": threshold,
        "asked_at": _utc(record.asked_at),
    }


def _loggable(question: str) -> str:
    # The log must never fail a flush: PostgreSQL rejects NUL and lone surrogates, so
    # replace them (the app already refuses such questions; this is defence in depth).
    cleaned = question.replace("\x00", "\ufffd")
    return cleaned.encode("utf-8", "replace").decode("utf-8")[:2000]


def _bump_counter(connection: Connection, column: Column[int]) -> int:
    """Increment one counter of the single store_state row and return the new value.

    The UPDATE takes that row's lock until the transaction ends, so writers bumping the
    same counter commit in counter order.
    """
    return connection.execute(
        update(t.store_state)
        .where(t.store_state.c.id == 1)
        .values({column.key: column + 1})
        .returning(column)
    ).scalar_one()
