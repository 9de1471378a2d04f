"""Keep the cyclic garbage collector's full collections off the request path.

A serving worker holds a few hundred thousand long-lived Python objects (FAQ entries and
their phrasings, lexical tables, the model's bookkeeping), and every full (generation 2)
collection walks all of them while holding the GIL. Measured in a `bench service` worker
with 10k FAQs: ~290k such objects, full collections of 150 ms on average and 287 ms at
worst, which was the slowest request of the 32-client phase. `gc.freeze` moves what exists
once the worker is ready into a permanent generation that collections skip; what is made
afterwards is still collected as usual.
"""

from __future__ import annotations

import gc
import logging
import time

logger = logging.getLogger(__name__)


def freeze_long_lived() -> None:
    """Collect, then freeze every object alive now. Call once ready and after a model swap.

    Unfreezing first gives objects an earlier freeze kept (an old model's, after a swap) one
    collection, so garbage among them is freed rather than kept forever; that one collection
    is the only full walk, off the hot path.
    """
    start = time.perf_counter()
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    logger.info(
        "froze %d long-lived objects out of garbage collection in %.0f ms",
        gc.get_freeze_count(), 1e3 * (time.perf_counter() - start),
    )
