"""The latest retrain as the store records it: one run at a time across workers, and its
progress from any of them, across restarts.

A retrain runs in one worker, but the workers share one store, and POST or GET
/admin/retrain goes to whichever worker accepts the connection. So the run is claimed in
the store (the settings table, one key) and the worker running it rewrites the record every
HEARTBEAT_S with its progress. A record that still says "running" long after its last
heartbeat belongs to a worker that died (kill -9, a crash, a restart mid-run): it reads as
failed, "interrupted", and no longer blocks a new run.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from store.faq_store import FaqStore
from store.settings import KEEP

logger = logging.getLogger("samesay.retrain")

RETRAIN_KEY = "retrain"
HEARTBEAT_S = 2.0
# Far above the heartbeat: a worker busy re-embedding its index still beats in time, and a
# store that is briefly slow to answer does not end a run that is alive.
STALE_AFTER = timedelta(seconds=30)
INTERRUPTED_MESSAGE = (
    "retrain interrupted: the worker running it stopped before it finished; "
    "the previous model keeps serving"
)
_TIMES = ("started_at", "finished_at")


@dataclass(frozen=True)
class RetrainState:
    state: str = "idle"  # idle | running | succeeded | failed
    progress: float = 0.0
    message: str = "no retrain has run on this store"
    started_at: datetime | None = None
    finished_at: datetime | None = None
    new_model_version: str | None = None
    error: str | None = None
    run_id: str | None = None  # None: no run (idle)


def claim(store: FaqStore, state: RetrainState) -> RetrainState | None:
    """Record `state` (a run starting) as the store's retrain, unless another run is alive:
    then that run's state, and nothing is written."""
    now = datetime.now(UTC)
    blocking: list[RetrainState] = []

    def take(stored: Any) -> Any:
        current = _parsed(stored, now)
        if current is not None and current.state == "running":
            blocking.append(current)
            return KEEP
        return _record(state, now)

    # notify: other workers' followers wake, which is harmless and rare (a start).
    store.change_setting(RETRAIN_KEY, take, notify=True)
    return blocking[0] if blocking else None


def publish(store: FaqStore, state: RetrainState) -> None:
    """Rewrite the record with this run's state and a new heartbeat, unless the store's
    record is another run's now (this one was taken for dead and replaced)."""
    now = datetime.now(UTC)

    def update(stored: Any) -> Any:
        if not isinstance(stored, dict) or stored.get("run_id") != state.run_id:
            return KEEP
        return _record(state, now)

    store.change_setting(RETRAIN_KEY, update, notify=False)


def latest(store: FaqStore) -> RetrainState | None:
    """The store's latest retrain (a dead run reads as interrupted), or None if none ran."""
    return _parsed(store.get_setting(RETRAIN_KEY), datetime.now(UTC))


def _record(state: RetrainState, now: datetime) -> dict[str, Any]:
    record = asdict(state)
    for name in _TIMES:
        record[name] = None if record[name] is None else record[name].isoformat()
    # The owner is only for a person reading the table: liveness is the heartbeat's.
    return {
        **record,
        "heartbeat_at": now.isoformat(),
        "owner": f"{socket.gethostname()}:{os.getpid()}",
    }


def _parsed(stored: Any, now: datetime) -> RetrainState | None:
    if stored is None:
        return None
    try:
        times = {name: _time(stored[name]) for name in _TIMES}
        state = RetrainState(
            state=str(stored["state"]),
            progress=float(stored["progress"]),
            message=str(stored["message"]),
            new_model_version=stored["new_model_version"],
            error=stored["error"],
            run_id=str(stored["run_id"]),
            **times,
        )
        heartbeat = _time(stored["heartbeat_at"])
    except (KeyError, TypeError, ValueError):
        # Not ours to trust (edited by hand, or an older layout): as if no run were known.
        logger.warning("ignoring an unreadable retrain record in the store: %r", stored)
        return None
    if state.state == "running" and (heartbeat is None or now - heartbeat > STALE_AFTER):
        since = "never" if heartbeat is None else heartbeat.isoformat(timespec="seconds")
        return replace(
            state,
            state="failed",
            message=INTERRUPTED_MESSAGE,
            finished_at=heartbeat,
            error=f"interrupted: no word from the worker running it since {since}",
        )
    return state


def _time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)
