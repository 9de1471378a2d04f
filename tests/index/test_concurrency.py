"""Searches running in threads while entries are added, updated, deleted and encoders swapped.

Must show: no crash, no error, and no FAQ id that is not in the store — precisely, no search
that starts after a delete has been caught up returns that id (a search racing the catch-up
may legitimately still see it), and no search returns an id the store never acknowledged.
"""

from __future__ import annotations

import random
import threading

import pytest

from store.entries import FaqDraft, FaqPatch
from store.faq_store import FaqStore
from tests.index.conftest import drafts_from_groups
from tests.index.test_searcher import assert_index_matches_store

READERS = 4
ROUNDS = 12


@pytest.mark.slow
def test_searches_during_adds_deletes_and_swaps(
    faq_store: FaqStore, make_searcher, fixture_groups, tiny_encoder, second_encoder
) -> None:
    faq_store.add(drafts_from_groups(fixture_groups))
    searcher = make_searcher(faq_store)
    searcher.start()
    queries = [s for sentences in fixture_groups.values() for s in sentences]
    guard = threading.Lock()
    acknowledged = {entry.id for entry in faq_store.iter_entries()}
    gone: set[int] = set()  # deleted and caught up: later searches must not return these
    errors: list[str] = []
    searches = [0] * READERS
    stop = threading.Event()

    def read(slot: int) -> None:
        rng = random.Random(slot)
        while not stop.is_set():
            with guard:
                forbidden = set(gone)
            tags = ["odd"] if rng.random() < 0.3 else None
            try:
                matches = searcher.search(rng.choice(queries), rng.randint(1, 20), tags=tags)
            except Exception as error:  # noqa: BLE001 — any error is the failure under test
                errors.append(repr(error))
                return
            with guard:
                known = set(acknowledged)
            for match in matches:
                if match.faq_id in forbidden or match.faq_id not in known:
                    errors.append(f"search returned {match.faq_id}, not in the store")
            searches[slot] += 1

    threads = [threading.Thread(target=read, args=(slot,)) for slot in range(READERS)]
    for thread in threads:
        thread.start()
    rng = random.Random(0)
    swap = None
    encoders = [second_encoder, tiny_encoder]
    try:
        for round_no in range(ROUNDS):
            new = faq_store.add(
                [FaqDraft(f"round {round_no} question {i}", "a", (f"alt {round_no} {i}",))
                 for i in range(3)]
            )
            with guard:
                acknowledged.update(entry.id for entry in new)
            live = sorted(acknowledged - gone)
            for faq_id in rng.sample(live, 2):
                faq_store.update(faq_id, FaqPatch(alternates=(f"edited in round {round_no}",)))
            doomed = rng.sample(live, 2)
            faq_store.delete_many(doomed)
            searcher.catch_up()
            with guard:
                gone.update(doomed)
            if round_no % 4 == 1 and (swap is None or swap.done()):
                swap = searcher.swap_encoder(encoders[(round_no // 4) % 2])
        if swap is not None:
            swap.result(timeout=120)
        searcher.catch_up()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    assert min(searches) > 0
    assert_index_matches_store(searcher, faq_store)
