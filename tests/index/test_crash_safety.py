"""SIGKILL a writer repeatedly mid-write and mid-save; restart; nothing acknowledged is lost.

Runs against SQLite and PostgreSQL. After each kill the parent restarts a searcher on the same
index directory and checks: every acknowledged add is in the store and the index, every
acknowledged delete is in neither, the index holds exactly one vector per stored phrasing (no
phantom or duplicate ids, counts equal), and the saved index loads without a rebuild (saves
are atomic, so a kill mid-save never leaves a damaged index behind).
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from index.searcher import FaqSearcher
from store.faq_store import FaqStore
from tests.index.test_searcher import assert_index_matches_store

REPO = Path(__file__).resolve().parents[2]
ROUNDS = 3


def run_until_killed(
    database_url: str, model: Path, index_dir: Path, first: int, kill_on: str, after: int
) -> tuple[list[int], list[int], list[int], int]:
    """Run the writer, SIGKILL it right after its `after`-th line starting with `kill_on`.

    Returns acknowledged added ids, acknowledged deleted ids, ids whose delete had started
    (the kill may land after its commit but before the acknowledgement: either outcome is
    right for those) and the saves it started.
    """
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.index.crash_writer", database_url, str(model),
         str(index_dir), str(first)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in child.stdout], daemon=True).start()
    added: list[int] = []
    deleted: list[int] = []
    deleting: list[int] = []
    saves = seen = 0

    ids_after = {"ack": added, "del": deleted, "deleting": deleting}

    def record(line: str) -> None:
        nonlocal saves
        word, _, rest = line.partition(" ")
        if word in ids_after:
            ids_after[word].append(int(rest))
        saves += line == "save"

    try:
        while True:
            try:
                line = lines.get(timeout=120).strip()
            except queue.Empty:
                pytest.fail(f"writer silent for 120 s; stderr: {child.stderr.read()[-2000:]}")
            record(line)
            if line.startswith(kill_on):
                seen += 1
                if seen == after:
                    os.kill(child.pid, signal.SIGKILL)
                    break
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=30)
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    # Lines written before the kill may still be in the pipe: they were acknowledged too.
    while not lines.empty():
        record(lines.get().strip())
    return added, deleted, deleting, saves


@pytest.mark.slow
def test_sigkill_during_writes_and_saves_loses_nothing(
    database_url: str, tiny_encoder_path: Path, tiny_encoder, tmp_path: Path
) -> None:
    index_dir = tmp_path / "index"
    all_added: set[int] = set()
    all_deleted: set[int] = set()
    maybe_deleted: set[int] = set()
    total_saves = 0
    for round_no in range(ROUNDS):
        # Even rounds die right after an acknowledged write (the next one is in flight), odd
        # rounds right as a save starts (the index file or sidecar is being written).
        kill_on, after = ("ack", 3 + round_no) if round_no % 2 == 0 else ("save", 2)
        added, deleted, deleting, saves = run_until_killed(
            database_url, tiny_encoder_path, index_dir, 100 * round_no, kill_on, after
        )
        assert added, "the writer acknowledged nothing"
        all_added.update(added)
        all_deleted.update(deleted)
        maybe_deleted.update(set(deleting) - set(deleted))
        total_saves += saves

        store = FaqStore(database_url)
        try:
            searcher = FaqSearcher(store, tiny_encoder, index_dir)
            outcome = searcher.start()
            # The writer saved before it was killed: its index must load, never need a rebuild.
            assert outcome.action == "loaded", outcome
            stored = {entry.id for entry in store.iter_entries()}
            assert all_added - all_deleted - maybe_deleted <= stored, "acknowledged entries lost"
            assert not (all_deleted & stored), "acknowledged deletes came back"
            assert_index_matches_store(searcher, store)
            indexed_faqs = set((searcher.index_ids() >> 7).tolist())
            assert indexed_faqs == stored
        finally:
            store.close()
    assert total_saves >= ROUNDS  # kills really overlapped with saves
