"""Micro-batching for the /ask fast lane: asks that arrive together are encoded together.

Encoding one question through the GRU is mostly per-time-step call overhead, which a batch
shares: on the bench's questions a text costs ~0.13-0.17 ms in a batch of 8-16 against
~0.25 ms alone (model/fast_path.py). Under load uvicorn reads several requests in one
event-loop pass and starts a task for each before any of them runs; the first ask to reach
the batcher schedules the flush with `call_soon`, so it runs right after the tasks already
queued have added theirs. No timer: an ask that arrives alone waits one loop turn, not a
deadline, which keeps one client's latency where it was.

A batch that fails answers None for each of its asks, and the fast lane replays them to the
FastAPI route one by one: the error bodies stay the route's own, as for any other replay.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from app.api.routes.ask import respond
from app.schemas import AskRequest
from app.service import Service
from index.searcher import Query

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Pending:
    service: Service
    request: AskRequest
    future: asyncio.Future[bytes | None]


class AskBatcher:
    """Collects the asks of one event-loop pass and answers them with one encoder pass."""

    def __init__(self) -> None:
        self._pending: list[_Pending] = []

    async def answer(self, service: Service, request: AskRequest, max_batch: int) -> bytes | None:
        """The response body for `request`, or None when the route must answer it instead."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bytes | None] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush, max_batch)
        self._pending.append(_Pending(service, request, future))
        return await future

    def _flush(self, max_batch: int) -> None:
        pending, self._pending = self._pending, []
        try:
            for start in range(0, len(pending), max_batch):
                _answer_batch(pending[start : start + max_batch])
        finally:
            # Every ask not answered above (a failed search or response, whatever else went
            # wrong) gets None, and the route answers it: none may wait forever.
            for item in pending:
                if not item.future.done():
                    item.future.set_result(None)


def _answer_batch(batch: list[_Pending]) -> None:
    """Resolves the asks of `batch`'s (one) service; `_flush` leaves any other to the route."""
    service = batch[0].service  # one service per app, so one per batch
    same = [item for item in batch if item.service is service]
    try:
        found = service.searcher.search_many(
            [Query(item.request.question, item.request.top_k, item.request.tags) for item in same]
        )
    except Exception:  # each ask is replayed to the route, which reports the error
        log.debug("batched search failed; the route answers each ask", exc_info=True)
        return
    service.metrics.ask_batch.observe(len(same))
    for item, matches in zip(same, found, strict=True):
        try:
            result = respond(service, item.request, matches)
        except Exception:
            log.debug("batched ask failed; the route answers it", exc_info=True)
            continue
        if not item.future.done():  # a cancelled ask has nobody waiting
            item.future.set_result(result)
