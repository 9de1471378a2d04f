"""Concurrent writers: revisions are gap-free and in order, and a poller never misses a change."""

import random
import threading
import time

from sqlalchemy import create_engine, select
from sqlalchemy.pool import NullPool

from store.entries import FaqDraft, FaqEntry, FaqPatch
from store.errors import FaqChanged, FaqNotFound
from store.faq_store import FaqStore
from store.schema import faq_changes
from store.settings import KEEP

WRITERS = 4
WRITES_EACH = 25


def logged_revisions(url: str) -> list[int]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        revisions = connection.execute(
            select(faq_changes.c.revision).distinct().order_by(faq_changes.c.revision)
        ).scalars().all()
    engine.dispose()
    return list(revisions)


def writer(store: FaqStore, seed: int, errors: list[BaseException]) -> None:
    rng = random.Random(seed)
    mine: list[int] = []
    try:
        for step in range(WRITES_EACH):
            action = rng.random()
            if action < 0.6 or not mine:
                batch = [FaqDraft(f"w{seed} s{step} n{n}?", "a.") for n in range(rng.randint(1, 3))]
                mine += [e.id for e in store.add(batch)]
            elif action < 0.85:
                store.update(rng.choice(mine), FaqPatch(answer=f"w{seed} s{step}"))
            else:
                store.delete(mine.pop(rng.randrange(len(mine))))
    except BaseException as error:  # noqa: BLE001 — reported by the test thread
        errors.append(error)


def poller(store: FaqStore, stop: threading.Event, mirror: dict[int, FaqEntry],
           seen_revisions: list[int], errors: list[BaseException]) -> None:
    revision = 0
    try:
        while True:
            finished = stop.is_set()  # read BEFORE catching up: the last pass sees everything
            changes = store.changes_since(revision)
            for entry in changes.upserted:
                mirror[entry.id] = entry
            for faq_id in changes.deleted:
                mirror.pop(faq_id, None)
            seen_revisions.append(changes.revision)
            revision = changes.revision
            if finished:
                return
            time.sleep(0.001)  # like a real poller: do not starve the writers of CPU
    except BaseException as error:  # noqa: BLE001
        errors.append(error)


def test_threads_write_gap_free_revisions_and_poller_misses_nothing(
    faq_store: FaqStore, database_url: str
) -> None:
    errors: list[BaseException] = []
    mirror: dict[int, FaqEntry] = {}
    seen: list[int] = []
    stop = threading.Event()
    # The poller uses its own store, like another process would.
    reader_store = FaqStore(database_url)
    reader = threading.Thread(target=poller, args=(reader_store, stop, mirror, seen, errors))
    reader.start()
    threads = [
        threading.Thread(target=writer, args=(faq_store, seed, errors)) for seed in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    reader.join()
    reader_store.close()
    assert errors == []
    final = faq_store.revision()
    assert final == WRITERS * WRITES_EACH  # every acknowledged write got exactly one revision
    assert logged_revisions(database_url) == list(range(1, final + 1))  # gap-free log
    assert seen == sorted(seen) and seen[-1] == final  # the poller only moved forward
    assert mirror == {e.id: e for e in faq_store.iter_entries()}  # and missed nothing


def test_failed_write_leaves_no_gap(faq_store: FaqStore, database_url: str) -> None:
    [entry] = faq_store.add([FaqDraft("q?", "a.")])
    faq_store.delete(entry.id)
    try:
        faq_store.update(entry.id, FaqPatch(answer="x"))
    except FaqNotFound:
        pass
    faq_store.add([FaqDraft("q2?", "a.")])
    assert logged_revisions(database_url) == [1, 2, 3]


def test_a_writer_waits_for_the_open_write_before_it_so_revisions_commit_in_order(
    faq_store: FaqStore, database_url: str
) -> None:
    """Deterministic form of the ordering guarantee: while revision 1 is uncommitted, the next
    writer cannot take revision 2 (a sequence would hand it out and could commit it first)."""
    finished: list[int] = []
    second_store = FaqStore(database_url)  # another "process" competing for the write
    try:
        with faq_store._faq_write() as (_connection, first_revision):
            assert first_revision == 1
            late = threading.Thread(
                target=lambda: finished.append(
                    second_store.add_batch([FaqDraft("late?", "a.")]).revision or -1
                )
            )
            late.start()
            late.join(timeout=1.5)
            assert late.is_alive() and finished == []  # blocked behind revision 1
            assert second_store.revision() == 0  # readers do not see the open write
        late.join(timeout=60)
        assert finished == [2]
        assert second_store.revision() == 2
    finally:
        second_store.close()


def test_a_setting_taken_by_racing_workers_goes_to_exactly_one(database_url: str) -> None:
    """change_setting reads and writes as one step: of workers that all see the key free at
    once (it does not exist yet), one takes it and the others see that one's value."""
    stores = [FaqStore(database_url) for _ in range(WRITERS)]
    start = threading.Barrier(WRITERS)
    outcomes: list[object] = [None] * WRITERS

    def take(worker: int) -> None:
        def claim(stored: object) -> object:
            time.sleep(0.05)  # widen the window between reading and writing
            return KEEP if stored is not None else {"owner": worker}

        start.wait()
        outcomes[worker] = stores[worker].change_setting("lease", claim, notify=False)

    threads = [threading.Thread(target=take, args=(worker,)) for worker in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.close()
    owners = {outcome["owner"] for outcome in outcomes}  # type: ignore[index]
    assert len(owners) == 1, outcomes


def test_of_editors_racing_from_one_revision_exactly_one_writes(database_url: str) -> None:
    """A conditional update checks the revision inside the write transaction: of writers
    that all read the entry at revision R and race, one wins and every other gets
    FaqChanged, even though each passed the check before its transaction began."""
    stores = [FaqStore(database_url) for _ in range(WRITERS)]
    [entry] = stores[0].add([FaqDraft("Shared?", "Original.")])
    start = threading.Barrier(WRITERS)
    outcomes: list[object] = [None] * WRITERS

    def edit(worker: int) -> None:
        start.wait()
        try:
            stores[worker].update(
                entry.id, FaqPatch(answer=f"Edited by {worker}."),
                expected_revisions=frozenset({entry.revision}),
            )
            outcomes[worker] = "written"
        except FaqChanged as error:
            outcomes[worker] = error.revision

    threads = [threading.Thread(target=edit, args=(worker,)) for worker in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = stores[0].get(entry.id)
    for store in stores:
        store.close()
    assert outcomes.count("written") == 1, outcomes
    winner = outcomes.index("written")
    assert stored.answer == f"Edited by {winner}."
    assert [o for o in outcomes if o != "written"] == [stored.revision] * (WRITERS - 1)
