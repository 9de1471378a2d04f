"""Logging for a background loop that keeps failing while the store is down.

The ask-log flush, the settings follower and the index poller each tick several times a
second. Logged on every tick, an outage wrote tracebacks at ~30 KB/s and buried the one line
that said what was wrong. So a run of failures is logged once when it starts (a traceback
only when the error is not a known outage), then once a minute with its count, and once when
the loop succeeds again.
"""

from __future__ import annotations

import logging
import time

from store.errors import StoreUnavailable

REPEAT_EVERY_S = 60.0


class FailureLog:
    """One per loop, used from that loop's thread only."""

    def __init__(self, logger: logging.Logger, what: str) -> None:
        self._logger = logger
        self._what = what
        self.failures = 0  # in a row
        self._next_report = 0.0

    def failed(self, error: BaseException, note: str = "") -> None:
        self.failures += 1
        now = time.monotonic()
        if self.failures > 1 and now < self._next_report:
            return
        self._next_report = now + REPEAT_EVERY_S
        suffix = f"; {note}" if note else ""
        if self.failures == 1:
            # A known outage says all in its message; anything else needs its traceback.
            self._logger.warning(
                "%s failed: %s%s",
                self._what,
                error,
                suffix,
                exc_info=None if isinstance(error, StoreUnavailable) else error,
            )
        else:
            self._logger.warning(
                "%s still failing (%d times in a row): %s%s",
                self._what,
                self.failures,
                error,
                suffix,
            )

    def succeeded(self) -> None:
        if self.failures:
            self._logger.info("%s works again after %d failures", self._what, self.failures)
        self.failures = 0
