"""Buffered ask log: /ask appends in memory (O(1)); a background thread writes batches.

The hot path never touches the database. Records survive a store outage up to
`capacity` (then the oldest are dropped and counted); a final flush runs at shutdown.
The same thread prunes records older than the retention, at start and then hourly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from store.failure_log import FailureLog
from store.faq_store import FaqStore
from store.records import AskRecord

logger = logging.getLogger("samesay.ask_log")

# One transaction per batch, small enough that /ask on the event-loop thread never waits
# long for the GIL: a batch costs ~14 us of Python per record (SQLite), so 128 records hold
# it ~2 ms. With 1,000-record batches once a second, 1-client /ask p99 was 5.1 ms against
# 2.8 ms with no flushing at all (one worker, 10k FAQs).
_BATCH = 128
# Pruning deletes by age: the log only needs trimming by the hour, and each prune is one
# DELETE that holds the writer lock while it runs, so rarely is better.
PRUNE_INTERVAL_S = 3600.0


class AskLogBuffer:
    def __init__(
        self,
        store: FaqStore,
        flush_interval_s: float,
        capacity: int,
        on_drop: Callable[[int], None] | None = None,
        retention: timedelta | None = None,
        prune_interval_s: float = PRUNE_INTERVAL_S,
    ) -> None:
        """retention: delete asks older than this (those with feedback stay); None keeps all."""
        self._store = store
        self._interval = flush_interval_s
        self._capacity = capacity
        self._on_drop = on_drop
        self._pending: deque[AskRecord] = deque()
        # Serialises flushes (the thread, shutdown and feedback's flush-before-lookup).
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._retention = retention
        self._prune_interval = prune_interval_s
        self._next_prune = 0.0  # monotonic time; 0 = prune on the thread's first pass

    def append(self, record: AskRecord) -> None:
        """Called on the hot path: deque.append is atomic under the GIL, no lock needed."""
        self._pending.append(record)
        overflow = len(self._pending) - self._capacity
        if overflow > 0:
            dropped = 0
            for _ in range(overflow):
                try:
                    self._pending.popleft()
                    dropped += 1
                except IndexError:
                    break
            if dropped and self._on_drop:
                self._on_drop(dropped)

    def __len__(self) -> int:
        return len(self._pending)

    def flush(self) -> int:
        """Write everything buffered now; returns how many records were written.

        On a store error the batch goes back to the front of the buffer and the error is
        raised, so nothing is lost while the buffer has room.
        """
        written = 0
        with self._flush_lock:
            while self._pending:
                batch: list[AskRecord] = []
                while self._pending and len(batch) < _BATCH:
                    batch.append(self._pending.popleft())
                try:
                    self._store.record_asks(batch)
                except Exception:
                    self._pending.extendleft(reversed(batch))
                    raise
                written += len(batch)
                time.sleep(0)  # let the event loop take the GIL between batches
        return written

    def prune(self) -> int:
        """Delete logged asks older than the retention; returns how many (0: keep forever)."""
        if self._retention is None:
            return 0
        return self._store.prune_asks(datetime.now(UTC) - self._retention)

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="samesay-ask-log", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and flush what is left (best effort: the store may be down)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        try:
            self.flush()
        except Exception:
            logger.exception("final ask-log flush failed; %d records lost", len(self._pending))

    def _run(self) -> None:
        failures = FailureLog(logger, "ask-log flush")
        self._prune_when_due()
        while not self._stop.wait(self._interval):
            try:
                self.flush()
                failures.succeeded()
            except Exception as error:
                failures.failed(error, f"{len(self._pending)} records kept for the next try")
            self._prune_when_due()

    def _prune_when_due(self) -> None:
        if self._retention is None or time.monotonic() < self._next_prune:
            return
        # A failed prune waits for the next interval too: old records can wait an hour, and
        # retrying every flush would repeat the warning four times a second during an outage.
        self._next_prune = time.monotonic() + self._prune_interval
        try:
            pruned = self.prune()
        except Exception:
            logger.warning(
                "pruning the ask log failed; next try in %.0f s", self._prune_interval,
                exc_info=True,
            )
            return
        if pruned:
            days = self._retention.total_seconds() / 86400
            logger.info("pruned %d ask records older than %g days", pruned, days)
