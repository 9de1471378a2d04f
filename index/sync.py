"""The background poller: each worker applies other processes' writes from the revision log.

The service starts one per process in its lifespan and stops it on shutdown. Failures (the
database briefly unreachable, say) are logged and retried on the next tick, never fatal.
"""

from __future__ import annotations

import logging
import threading
import time

from index.searcher import FaqSearcher
from store.failure_log import FailureLog

log = logging.getLogger(__name__)


class IndexPoller:
    """Calls `searcher.catch_up()` every `interval_s`; saves the index every `save_every_s`
    when it has unsaved changes (a restart catches up from the log anyway, so saving is only
    to keep that catch-up short)."""

    def __init__(
        self, searcher: FaqSearcher, interval_s: float = 0.5, save_every_s: float = 60.0
    ) -> None:
        self._searcher = searcher
        self._interval_s = interval_s
        self._save_every_s = save_every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_save = time.monotonic()
        self.errors = 0  # consecutive failed ticks, for health reporting

    @classmethod
    def from_settings(cls, searcher: FaqSearcher, settings: object) -> IndexPoller:
        return cls(searcher, interval_s=settings.sync_interval_s)  # type: ignore[attr-defined]

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="samesay-index-poller", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread and save unsaved changes (a clean shutdown leaves a fresh index)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        try:
            if self._searcher.unsaved:
                self._searcher.save()
        except Exception:  # noqa: BLE001 — shutdown must go on; the next start catches up
            log.exception("saving the index on shutdown failed")

    def poll_once(self) -> int:
        """One tick: catch up, and save when due. Returns the entries changed."""
        changed = self._searcher.catch_up()
        if self._searcher.unsaved and time.monotonic() - self._last_save >= self._save_every_s:
            self._searcher.save()
            self._last_save = time.monotonic()
        return changed

    def _run(self) -> None:
        failures = FailureLog(log, "index catch-up")
        while not self._stop.wait(self._interval_s):
            try:
                self.poll_once()
                failures.succeeded()
            except Exception as error:  # noqa: BLE001 — keep polling
                failures.failed(error)
            self.errors = failures.failures
