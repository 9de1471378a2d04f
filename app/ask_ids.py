"""Ask ids: random, led by the time they were issued, so that feedback can tell an ask too
recent to be stored yet from an id that does not exist.

/ask logs in memory and each worker writes its asks every `ask_log_flush_s` (app.ask_log),
so with several workers feedback on an ask answered a moment ago by another worker found no
such ask (QA: 24 of 60 feedback posts sent right after their ask got 404 with
`--workers 2`). The feedback route waits for such an ask, and only for one issued within
the flush window: an unknown or old id is still a 404 at once.
"""

from __future__ import annotations

import secrets
import time

# 12 hex digits of Unix milliseconds (until the year 10889), then 20 random ones: 80 bits,
# as hard to guess as the uuid4 ids before them, and the same 32 characters.
_TIME_DIGITS = 12


def new_ask_id() -> str:
    return f"{time.time_ns() // 1_000_000:0{_TIME_DIGITS}x}{secrets.token_hex(10)}"


def seconds_since_issued(ask_id: str) -> float | None:
    """How long ago `ask_id` was issued (negative when another host's clock runs ahead),
    or None for an id of another shape."""
    if len(ask_id) != 32:
        return None
    try:
        issued_ms = int(ask_id[:_TIME_DIGITS], 16)
    except ValueError:
        return None
    return time.time() - issued_ms / 1000


def flush_window_s(flush_interval_s: float) -> float:
    """How long after an ask its worker has surely written it, outages aside: a few flush
    intervals (a flush may be mid-batch) and a second for a busy machine."""
    return 4 * flush_interval_s + 1.0
