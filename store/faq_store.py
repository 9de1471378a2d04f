"""FaqStore: the store's one entry point, and FAQ CRUD with a revision log, over SQLAlchemy.

Every FAQ write transaction starts by bumping the single `store_state.revision` row
(`UPDATE ... RETURNING`), so writers serialise on that row lock (SQLite: BEGIN IMMEDIATE too)
and revisions commit strictly in order: a reader that has seen revision N has seen every
change <= N. Each touched entry gets a `faq_changes` row and its `revision` column set, in the
same transaction.

The other table families live in their own modules over the same engine and transactions:
settings in `store/settings.py`, asks and feedback in `store/ask_log.py`. FaqStore exposes
them as `.settings` and `.asks`, and delegates their methods so callers keep one object.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, exists, func, insert, select, update
from sqlalchemy.exc import InterfaceError, OperationalError

from store import schema as t
from store.ask_log import AskLog
from store.checks import as_utc, bounded, check_limit, utc_now, valid_id
from store.engine import create_store_engine
from store.entries import FaqDraft, FaqEntry, FaqPatch, clean_text
from store.errors import FaqChanged, FaqNotFound, StoreUnavailable, StoreValidationError
from store.migrate import ensure_schema
from store.records import (
    AskRecord,
    ChangeSet,
    Feedback,
    Page,
    StoreVersions,
    SyncResult,
    UnansweredQuestion,
)
from store.settings import SettingsStore
from store.transactions import Transactions, bump_counter, unavailable_reason

MAX_PAGE = 100
_INSERT_CHUNK = 1000


class FaqStore:
    """The source of truth. Thread-safe; one per process (each process opens its own)."""

    def __init__(self, url: str, *, upgrade: bool = True) -> None:
        self.url = url
        self._engine = create_store_engine(url)
        try:
            self.schema_revision = ensure_schema(self._engine, upgrade=upgrade)
        except (OperationalError, InterfaceError) as error:
            self._engine.dispose()
            raise StoreUnavailable(unavailable_reason(error)) from error
        except BaseException:
            self._engine.dispose()
            raise
        self._transactions = Transactions(self._engine)
        self.settings = SettingsStore(self._transactions)
        self.asks = AskLog(self._transactions)

    def close(self) -> None:
        self._engine.dispose()

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    # ---- transactions -------------------------------------------------------------------

    @contextmanager
    def _faq_write(self) -> Iterator[tuple[Connection, int]]:
        """A write transaction holding the next revision (the counter row stays locked)."""
        with self._transactions.write() as connection:
            yield connection, bump_counter(connection, t.store_state.c.revision)

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
            FaqEntry(faq_id, d.question, d.answer, d.alternates, d.tags, now, now, revision)
            for faq_id, d in zip(ids, drafts, strict=True)
        ]
        self._write_tags(connection, [(e.id, e.tags) for e in entries])
        self._log(connection, revision, [e.id for e in entries], "upsert", now)
        return entries

    def update(
        self,
        faq_id: int,
        change: FaqDraft | FaqPatch,
        *,
        expected_revisions: AbstractSet[int] | None = None,
    ) -> FaqEntry:
        """Replace the entry (FaqDraft) or patch some fields (FaqPatch); raises FaqNotFound.
        A change that leaves every field as stored writes nothing: no new revision, the same
        `updated_at` (a client syncing by revision sees no change where there is none).
        With `expected_revisions`, the entry must be at one of them (the revision the writer
        read) or FaqChanged is raised and nothing is written."""
        stored = self.get(faq_id)
        _check_revision(stored, expected_revisions)
        if _unchanged(stored, change.apply_to(stored) if isinstance(change, FaqPatch) else change):
            return stored
        with self._faq_write() as (connection, revision):
            current = self._get(connection, faq_id)  # writers are serialised: no race
            _check_revision(current, expected_revisions)
            draft = change.apply_to(current) if isinstance(change, FaqPatch) else change
            now = utc_now()
            self._replace(connection, revision, faq_id, draft, now)
            self._log(connection, revision, [faq_id], "upsert", now)
            return FaqEntry(
                faq_id, draft.question, draft.answer, draft.alternates, draft.tags,
                current.created_at, now, revision,
            )

    def _replace(
        self, connection: Connection, revision: int, faq_id: int, draft: FaqDraft, now: datetime
    ) -> None:
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

    def sync(
        self,
        add: Sequence[FaqDraft],
        replace: Mapping[int, FaqDraft],
        *,
        delete_others: bool = False,
        on_progress: Callable[[int], None] | None = None,
    ) -> SyncResult:
        """Apply a whole FAQ file in one transaction and one revision: replace the entries
        named in `replace` (raises FaqNotFound if one is gone), add `add`, and with
        `delete_others` delete every entry not named in `replace`. A replacement equal
        to what is stored writes nothing; if nothing changes at all, no revision is used."""
        try:
            with self._faq_write() as (connection, revision):
                current = self._entries_by_id(connection, list(replace))
                missing = [faq_id for faq_id in replace if faq_id not in current]
                if missing:
                    raise FaqNotFound(missing[0])
                changed = [i for i, draft in replace.items() if not _unchanged(current[i], draft)]
                doomed: list[int] = []
                if delete_others:
                    every = select(t.faq_entries.c.id).order_by(t.faq_entries.c.id)
                    doomed = [i for i in connection.execute(every).scalars() if i not in replace]
                if not (add or changed or doomed):
                    raise _NothingToWrite
                now = utc_now()
                for faq_id in changed:
                    self._replace(connection, revision, faq_id, replace[faq_id], now)
                self._log(connection, revision, changed, "upsert", now)
                if on_progress is not None and replace:
                    on_progress(len(replace))
                for start in range(0, len(doomed), _INSERT_CHUNK):
                    chunk = doomed[start : start + _INSERT_CHUNK]
                    connection.execute(delete(t.faq_entries).where(t.faq_entries.c.id.in_(chunk)))
                    self._log(connection, revision, chunk, "delete", now)
                    if on_progress is not None:
                        on_progress(len(chunk))
                added: list[FaqEntry] = []
                for start in range(0, len(add), _INSERT_CHUNK):
                    chunk = add[start : start + _INSERT_CHUNK]
                    added += self._insert(connection, revision, chunk)
                    if on_progress is not None:
                        on_progress(len(chunk))
        except _NothingToWrite:
            return SyncResult([], [], list(replace), [], None)
        unchanged = [faq_id for faq_id in replace if faq_id not in set(changed)]
        return SyncResult(added, changed, unchanged, doomed, revision)

    def delete(self, faq_id: int, *, expected_revisions: AbstractSet[int] | None = None) -> None:
        """Delete one entry; raises FaqNotFound (and bumps nothing) if it does not exist, and
        FaqChanged if `expected_revisions` is given and the entry is at none of them."""
        if expected_revisions is None:
            self.delete_many([faq_id])
            return
        with self._faq_write() as (connection, revision):
            _check_revision(self._get(connection, faq_id), expected_revisions)
            connection.execute(delete(t.faq_entries).where(t.faq_entries.c.id == faq_id))
            self._log(connection, revision, [faq_id], "delete", utc_now())

    def delete_many(self, faq_ids: Iterable[int]) -> None:
        """Delete several entries atomically; raises FaqNotFound for the first missing id."""
        wanted = list(dict.fromkeys(faq_ids))
        if not wanted:
            return
        for faq_id in wanted:
            if not valid_id(faq_id):
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
        if not faq_ids:
            return
        connection.execute(
            insert(t.faq_changes),
            [{"revision": revision, "faq_id": i, "op": op, "changed_at": now} for i in faq_ids],
        )

    # ---- FAQ reads ----------------------------------------------------------------------

    def get(self, faq_id: int) -> FaqEntry:
        with self._transactions.read() as connection:
            return self._get(connection, faq_id)

    def get_many(self, faq_ids: Iterable[int]) -> dict[int, FaqEntry]:
        """The entries that exist among faq_ids, by id (missing ids are simply absent)."""
        with self._transactions.read() as connection:
            return self._entries_by_id(connection, faq_ids)

    def _entries_by_id(self, connection: Connection, faq_ids: Iterable[int]) -> dict[int, FaqEntry]:
        wanted = [faq_id for faq_id in dict.fromkeys(faq_ids) if valid_id(faq_id)]
        found: dict[int, FaqEntry] = {}
        for start in range(0, len(wanted), 1000):  # bounded IN lists
            chunk = wanted[start : start + 1000]
            rows = connection.execute(select(t.faq_entries).where(t.faq_entries.c.id.in_(chunk)))
            found.update((row.id, _entry(row)) for row in rows)
        return found

    def _get(self, connection: Connection, faq_id: int) -> FaqEntry:
        if not valid_id(faq_id):
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
        check_limit(limit, MAX_PAGE)
        after_id = bounded(after_id, "after_id")
        offset = bounded(offset, "offset")
        if offset is not None and after_id is not None:
            raise StoreValidationError("offset", "use either offset or after_id, not both")
        wanted_tags = [clean_text(tag, f"tags[{i}]", 50) for i, tag in enumerate(tags)]
        filters = [
            exists().where(t.faq_tags.c.faq_id == t.faq_entries.c.id, t.faq_tags.c.tag == tag)
            for tag in dict.fromkeys(wanted_tags)
        ]
        with self._transactions.read() as connection:
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
            with self._transactions.read() as connection:
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
        with self._transactions.read() as connection:
            state = connection.execute(select(t.store_state.c.revision)).scalar_one()
            total = connection.execute(
                select(func.count()).select_from(t.faq_entries)
            ).scalar_one()
            yield Snapshot(state, total, connection, batch_size)

    def count(self) -> int:
        with self._transactions.read() as connection:
            return connection.execute(
                select(func.count()).select_from(t.faq_entries)
            ).scalar_one()

    # ---- revisions ----------------------------------------------------------------------

    def revision(self) -> int:
        return self.versions().revision

    def versions(self) -> StoreVersions:
        """FAQ revision and settings version in one cheap query (what pollers call)."""
        with self._transactions.read() as connection:
            row = connection.execute(
                select(t.store_state.c.revision, t.store_state.c.settings_version)
            ).one()
        return StoreVersions(row.revision, row.settings_version)

    def store_id(self) -> str:
        """Random id fixed when the database was created: tells databases apart."""
        with self._transactions.read() as connection:
            return connection.execute(select(t.store_state.c.store_id)).scalar_one()

    def changes_since(self, revision: int) -> ChangeSet:
        """What changed after `revision`, from one snapshot; `.revision` is the store's now.

        A `revision` above the store's means the caller's state came from another database
        (or one restored from backup): the caller should rebuild rather than apply this.
        """
        bounded(revision, "revision")
        with self._transactions.read() as connection:
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

    # ---- settings and the ask log: their own modules, delegated so callers keep one API --

    def get_setting(self, key: str, default: Any = None) -> Any:
        return self.settings.get_setting(key, default)

    def set_setting(self, key: str, value: Any) -> int:
        return self.settings.set_setting(key, value)

    def change_setting(self, key: str, change: Callable[[Any], Any], *, notify: bool) -> Any:
        return self.settings.change_setting(key, change, notify=notify)

    def get_threshold(self) -> float | None:
        return self.settings.get_threshold()

    def set_threshold(self, threshold: float) -> int:
        return self.settings.set_threshold(threshold)

    def get_active_model(self) -> str | None:
        return self.settings.get_active_model()

    def set_active_model(self, content_hash: str) -> int:
        return self.settings.set_active_model(content_hash)

    def record_asks(self, records: Sequence[AskRecord]) -> int:
        return self.asks.record_asks(records)

    def get_ask(self, ask_id: str) -> AskRecord:
        return self.asks.get_ask(ask_id)

    def add_feedback(self, ask_id: str, correct: bool, faq_id: int | None = None) -> Feedback:
        return self.asks.add_feedback(ask_id, correct, faq_id)

    def list_feedback(self, *, limit: int = 100, after_id: int | None = None) -> list[Feedback]:
        return self.asks.list_feedback(limit=limit, after_id=after_id)

    def unanswered(
        self, limit: int = 50, since: datetime | None = None
    ) -> list[UnansweredQuestion]:
        return self.asks.unanswered(limit, since)

    def prune_asks(self, before: datetime) -> int:
        return self.asks.prune_asks(before)

    # ---- health -------------------------------------------------------------------------

    def ping(self) -> bool:
        """True when the database answers with its tables in place; never raises."""
        return self.unavailable_reason() is None

    def unavailable_reason(self) -> str | None:
        """Why the store cannot serve now (for readiness), or None; never raises."""
        try:
            with self._transactions.read() as connection:
                # A table of ours, not SELECT 1: a database replaced by an empty one answers
                # SELECT 1 but serves nothing.
                connection.execute(
                    select(t.store_state.c.revision).where(t.store_state.c.id == 1)
                ).scalar_one()
        except StoreUnavailable as error:
            return str(error)
        except Exception as error:  # noqa: BLE001 — any failure means "not ready"
            return f"database unavailable: {type(error).__name__}"
        return None


class _NothingToWrite(Exception):
    """Rolls back a sync that found nothing to change, revision bump included."""


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


def _entry(row: Row) -> FaqEntry:
    return FaqEntry(
        id=row.id,
        question=row.question,
        answer=row.answer,
        alternates=tuple(row.alternates),
        tags=tuple(row.tags),
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        revision=row.revision,
    )


def _check_revision(entry: FaqEntry, expected: AbstractSet[int] | None) -> None:
    # Raising inside the write transaction rolls back its revision bump too.
    if expected is not None and entry.revision not in expected:
        raise FaqChanged(entry.id, entry.revision)


def _unchanged(entry: FaqEntry, draft: FaqDraft) -> bool:
    return (entry.question, entry.answer, tuple(entry.alternates), tuple(entry.tags)) == (
        draft.question, draft.answer, tuple(draft.alternates), tuple(draft.tags)
    )
